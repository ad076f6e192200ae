"""black, in-process, one group of top-level statements at a time, with a cache of what it gave last time.

black's cost grows faster than the module (a 10× larger module takes ~14× longer) and it dominates generation.
A module is cut before each top-level class or function, and a class between its methods (each with its
decorators and the comments right above it); each piece is formatted on its own, pieces formatted before come
from the cache, and the rest are spread over the CPUs. Pieces are joined with the blank lines black always puts
there (two around top-level definitions, one between methods), so the result is what black makes of the whole
module: tests/test_formatting.py holds us to that.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from .cache import cache_dir, store

LINE_LENGTH = 120
PARALLEL_FROM = 64  # fewer pieces than this are not worth starting worker processes for


def _black(source: str) -> str:
    import black

    mode = black.Mode(line_length=LINE_LENGTH, target_versions={black.TargetVersion.PY311})
    return black.format_str(source, mode=mode)


DEFINITIONS = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
METHOD_WRAPPER = "class _:\n"  # a method is formatted inside a stand-in class, whose line is then dropped


def split_top_level(source: str) -> list[str]:
    """The module as top-level pieces that black formats independently; `"".join(pieces) == source`."""
    return ["".join(group) for group in split_pieces(source)]


def split_pieces(source: str) -> list[list[str]]:
    """Groups that black separates by two blank lines (top-level definitions); inside a group, parts that it
    separates by one (a class cut between its methods; every part after the first is a method)."""
    if "fmt:" in source:  # `# fmt: off` regions may span pieces: keep the module whole
        return [[source]]
    lines = source.splitlines(keepends=True)
    body = ast.parse(source).body
    docstring = body[0] if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else None
    starts = [0] + [start for previous, node in zip(body, body[1:])
                    if previous is not docstring  # black's rule for what follows a module docstring is its own
                    and (start := _cut(lines, previous, node, DEFINITIONS)) is not None]
    groups = []
    nodes = iter(body)
    node = next(nodes, None)
    for a, b in zip(starts, starts[1:] + [len(lines)]):
        inside = []  # the statements that start in lines a..b (1-based a+1..b)
        while node is not None and node.lineno <= b:
            inside.append(node)
            node = next(nodes, None)
        cuts = _method_cuts(lines, inside[0]) if len(inside) == 1 and isinstance(inside[0], ast.ClassDef) else []
        bounds = [a, *cuts, b]
        groups.append(["".join(lines[x:y]) for x, y in zip(bounds, bounds[1:])])
    return groups


def _cut(lines: list[str], previous: ast.stmt, node: ast.stmt, kinds: tuple[type[ast.stmt], ...]) -> int | None:
    """The line index where `node` can start a piece of its own, with the comments right above it; else None."""
    if not isinstance(node, kinds) or _is_stub(previous):
        return None  # black may keep `def f(): ...` overloads together without blank lines
    start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1  # type: ignore[attr-defined]
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    while start > 0 and start - 1 >= (previous.end_lineno or 0) and lines[start - 1].lstrip().startswith("#"):
        if not lines[start - 1].startswith(indent + "#"):
            return None  # a comment at another depth: black decides where it goes, so keep it in context
        start -= 1  # a comment right above a definition belongs to it
    return start


def _method_cuts(lines: list[str], node: ast.ClassDef) -> list[int]:
    """Cuts between consecutive methods of a class: there black's spacing is always one blank line."""
    return [start for previous, method in zip(node.body, node.body[1:])
            if isinstance(previous, FUNCTIONS) and (start := _cut(lines, previous, method, FUNCTIONS)) is not None]


def _is_stub(node: ast.stmt) -> bool:
    if not isinstance(node, DEFINITIONS) or len(node.body) != 1:
        return False
    only = node.body[0]
    return isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis


def _key(piece: str) -> str:
    return hashlib.sha256(piece.encode()).hexdigest()


class FormatCache:
    """Formatted pieces per output module, from the previous run; rewritten with this run's pieces only."""

    def __init__(self, name: str):
        import black

        digest = hashlib.sha256(f"{black.__version__}\n{LINE_LENGTH}\n{name}".encode()).hexdigest()
        self.path = cache_dir("black") / f"{digest}.json"
        try:
            self.known: dict[str, str] = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.known = {}

    def save(self, used: dict[str, str]) -> None:
        if used != self.known:
            store(self.path, json.dumps(used, sort_keys=True))


def format_module(source: str, name: str) -> str:
    """`source` as black formats it; `name` keys the cache (the module's path in the output)."""
    return format_modules({name: source})[name]


def format_modules(sources: dict[str, str], namespace: str = "") -> dict[str, str]:
    """Each module as black formats it; `namespace:name` keys a module's cache. Every piece missing from the
    caches goes to one pool of workers, so small and large modules share the CPUs."""
    done: dict[str, str] = {}
    plans: dict[str, tuple[FormatCache, str, list[list[str]]]] = {}
    missing: dict[str, str] = {}
    for name, source in sorted(sources.items()):
        cache = FormatCache(f"{namespace}:{name}" if namespace else name)
        whole = "module:" + _key(source)
        if whole in cache.known:  # unchanged since last time: not even worth parsing
            done[name] = cache.known[whole]
            continue
        groups = [[part if i == 0 else METHOD_WRAPPER + part for i, part in enumerate(group)]
                  for group in split_pieces(source)]
        keyed = [[_key(part) for part in group] for group in groups]
        missing |= {key: part for group, keys in zip(groups, keyed) for key, part in zip(keys, group)
                    if key not in cache.known}
        plans[name] = (cache, whole, keyed)
    order = sorted(missing)
    fresh = dict(zip(order, _format_all([missing[key] for key in order])))
    for name, (cache, whole, keyed) in plans.items():
        formatted = {key: cache.known[key] if key in cache.known else _unwrap(fresh[key], method=index > 0)
                     for keys in keyed for index, key in enumerate(keys)}  # parts after a group's first are methods
        texts = ["\n\n".join(text for key in keys if (text := formatted[key].strip("\n"))) for keys in keyed]
        done[name] = "\n\n\n".join(text for text in texts if text) + "\n"
        cache.save({**formatted, whole: done[name]})
    return done


def _unwrap(formatted: str, method: bool) -> str:
    """A method's formatting without the stand-in class line it was formatted under."""
    return formatted.removeprefix(METHOD_WRAPPER) if method else formatted


def _format_all(pieces: list[str]) -> list[str]:
    workers = min(len(os.sched_getaffinity(0)), 8) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if len(pieces) < PARALLEL_FROM or workers < 2:
        return [_black(piece) for piece in pieces]
    largest_first = sorted(range(len(pieces)), key=lambda i: -len(pieces[i]))  # big pieces must not start last
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        done = dict(zip(largest_first, pool.map(_black, [pieces[i] for i in largest_first])))
    return [done[i] for i in range(len(pieces))]
