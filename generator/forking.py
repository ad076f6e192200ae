"""Work in forked processes, on the other cores: a stage beside the parent (`InChild`), or a pool's workers;
neither collects garbage while it works (`uncollected`, `between_runs`)."""

from __future__ import annotations

import gc
import itertools
import os
import signal
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection


def uncollected() -> None:
    """A worker collects no garbage while it works: its end, or `between_runs`, frees it. Collecting cost 5-10%
    of a run of datamodel-code-generator or of validation on GitHub's spec (whose peak rises from 420 to 515 MB),
    and walked the objects the fork gave it (a big document), writing to their pages, which copied them."""
    gc.disable()


_runs_here = itertools.count()  # in a pool's worker: how many runs it started (each is forked at 0)


def between_runs() -> None:
    """At the start of each run of a pool's worker that `uncollected` began: the garbage of the runs before, if
    any, is freed first, so that the worker's peak stays that of one run."""
    if next(_runs_here):
        gc.collect()


class InChild:
    """`work()` in a forked process, so that it runs on another core; `result()` waits for what it returns.
    Leaving the `with` block ends the process if nobody asked for its result. A `niceness` above 0 lowers its
    priority: it yields its core to the parent's own workers, and takes the cores they leave idle."""

    def __init__(self, work: Callable[[], object], niceness: int = 0):
        from multiprocessing import get_context  # not imported by a no-op run

        context = get_context("fork")
        self._results, sender = context.Pipe(duplex=False)
        self._process = context.Process(target=_run_and_send, args=(work, sender, niceness), daemon=True)
        self._process.start()
        sender.close()
        self._outcome: tuple[bool, Any] | None = None

    def __enter__(self) -> InChild:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._outcome is None:
            self._process.terminate()
        self._process.join()
        self._results.close()

    def result(self) -> Any:
        if self._outcome is None:
            try:
                self._outcome = self._results.recv()
            except EOFError:
                self._outcome = (False, ("the worker process died", "it ended without sending a result"))
        ok, value = self._outcome
        if not ok:  # what the worker raised, in full; its traceback goes with the error, shown with -v
            said, trace = value
            error = RuntimeError(f"in a worker process: {said}")
            error.add_note(trace)
            raise error
        return value


def _run_and_send(work: Callable[[], object], sender: Connection, niceness: int) -> None:
    signal.signal(signal.SIGTERM, _exit_on_terminate)
    try:
        os.nice(niceness)
        uncollected()
        result = (True, work())
    except BaseException as exc:  # sent to the parent, which raises it there
        result = (False, ("".join(traceback.format_exception_only(exc)).strip(),
                          "".join(traceback.format_exception(exc))))
    sender.send(result)


def _exit_on_terminate(signum: int, frame: object) -> None:
    """Ended by its parent (which failed, or needs it no more), a worker unwinds, as on an error: what it holds
    is cleaned up (a temporary folder, a ruff process it waits for), where the default action leaves them."""
    raise SystemExit(128 + signum)
