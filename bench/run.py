"""make bench: generation, client and server measured beside the peers, in one run, on this machine.

Prints a Markdown report and writes it to bench/results/latest.md. Ratios matter, not absolute times: the
machines are shared and noisy. Peers live in their own virtual environments under .cache/bench/.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "bench"
PYTHON = sys.executable
SPECGEN = str(Path(sys.executable).parent / "specgen")
PEERS = {  # name → (pip requirement, console script)
    "openapi-python-client": ("openapi-python-client==0.29.1", "openapi-python-client"),
    "fastapi-code-generator": ("fastapi-code-generator==0.8.1", "fastapi-codegen"),
    "datamodel-code-generator": ("datamodel-code-generator==0.89.0", "datamodel-codegen"),
}
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "600"))


@dataclass
class Timing:
    seconds: float | None  # median wall time; None when the tool failed
    peak_mb: float | None
    note: str = ""


def peer_venv(name: str) -> Path:
    requirement, script = PEERS[name]
    venv = CACHE / "peers" / name
    exe = venv / "bin" / script
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", requirement],
                       check=True)
    return exe


def measure(command: list[str], *, runs: int = RUNS, env: dict[str, str] | None = None,
            prepare: Callable[[], None] | None = None, cwd: Path = ROOT) -> Timing:
    """Median wall time and peak RSS of a whole process, via /usr/bin/time."""
    times, peaks = [], []
    for _ in range(runs):
        if prepare:
            prepare()
        started = time.perf_counter()
        try:
            done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], capture_output=True, text=True,
                                  timeout=TIMEOUT, env={**os.environ, **(env or {})}, cwd=cwd)
        except subprocess.TimeoutExpired:
            return Timing(None, None, f"timed out after {TIMEOUT}s")
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
            return Timing(None, None, f"failed: {(lines[-2] if len(lines) > 1 else lines[-1] if lines else '?')[:120]}")
        times.append(elapsed)
        peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return Timing(statistics.median(times), max(peaks))


def measure_in_turns(plans: dict[str, tuple[list[str], dict[str, str] | None, Callable[[], None] | None]],
                     runs: dict[str, int]) -> dict[str, Timing]:
    """Each tool's (command, env, prepare) measured as `measure` does, the runs of all of them taken in turns
    (A B C, A B C, ...), so that a slow spell of the shared machine weighs on every tool alike, not on whichever
    ran then."""
    timings: dict[str, list[Timing]] = {tool: [] for tool in plans}
    for turn in range(max(runs.values())):
        for tool, (command, env, prepare) in plans.items():
            if turn < runs[tool] and all(t.seconds is not None for t in timings[tool]):
                timings[tool].append(measure(command, runs=1, env=env, prepare=prepare))
    return {tool: next((t for t in found if t.seconds is None), None)
            or Timing(statistics.median(t.seconds or 0.0 for t in found), max(t.peak_mb or 0.0 for t in found))
            for tool, found in timings.items()}


SPECGEN_COLD = "specgen (models+server+client), cold cache"
SPECGEN_WARM = "specgen, warm cache (--force, every piece cached)"
SPECGEN_EDIT = "specgen, one operation's summary edited since the last run"
SUMMARY: list[str] = []  # the targets, met or not, printed first


def target(label: str, value: float | None, limit: float, unit: str = "×") -> None:
    shown = "—" if value is None else f"{value:.2f}{unit if unit == '×' else ' ' + unit}"
    verdict = "not measured" if value is None else "met" if value <= limit else "**missed**"
    SUMMARY.append(f"| {label} | {shown} | ≤ {limit:g}{unit if unit == '×' else ' ' + unit} | {verdict} |")


def generators(spec: Path, out: Path) -> dict[str, list[str]]:
    """Ours first cold (no cache: the first run on a machine), then warm (what is cached after that run)."""
    ours = [SPECGEN, "-q", "generate", str(spec), "--out", str(out / "ours"), "--package", "api", "--force"]
    return {
        SPECGEN_COLD: ours,
        SPECGEN_WARM: ours,
        "openapi-python-client (client)": [str(peer_venv("openapi-python-client")), "generate", "--path", str(spec),
                                           "--output-path", str(out / "opc"), "--overwrite"],
        "fastapi-code-generator (server)": [str(peer_venv("fastapi-code-generator")), "--input", str(spec),
                                            "--output", str(out / "fcg")],
        "datamodel-code-generator (models)": [str(peer_venv("datamodel-code-generator")), "--input", str(spec),
                                              "--input-file-type", "openapi", "--output", str(out / "dmcg.py"),
                                              "--output-model-type", "pydantic_v2.BaseModel"],
    }


def wipe(*folders: Path) -> Callable[[], None]:
    def remove() -> None:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)

    return remove


def edited_operation_timing(spec: Path, out: Path, cache: Path) -> Timing:
    """Regeneration after one operation's summary changed: a copy of the spec, edited before each run."""
    import json

    copy = out / "openapi.json"
    out.mkdir(parents=True, exist_ok=True)
    document = json.loads(spec.read_text())
    operation = next(op for item in document["paths"].values() for op in item.values()
                     if isinstance(op, dict) and "responses" in op)
    edits = iter(range(1_000))

    def edit() -> None:
        operation["summary"] = f"Edited {next(edits)}"
        copy.write_text(json.dumps(document, indent=2))

    edit()
    command = [SPECGEN, "-q", "generate", str(copy), "--out", str(out), "--package", "api"]
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "SPECGEN_CACHE": str(cache)})
    return measure(command, env={"SPECGEN_CACHE": str(cache)}, prepare=edit, runs=max(RUNS, 5))


def import_timings(outputs: Path) -> list[str]:
    """Whole-process time to import each client (and, for ours, to also build three operations' models)."""
    ours = outputs / "ours"
    opc = next((p.parent for p in sorted((outputs / "opc").glob("*/client.py"))), None)
    rows = []
    cases = {"python -c pass (start-up alone)": (ours, "pass"),
             "specgen: import api.client": (ours, "import api.client"),
             "specgen: import api.client + 3 operations' models": (
                 ours, "import api.client, api.models as m; m.FullRepository; m.Issue; m.PullRequest")}
    if opc is not None:
        cases[f"openapi-python-client: import {opc.name}"] = (opc.parent, f"import {opc.name}")
    for label, (folder, code) in cases.items():
        subprocess.run([PYTHON, "-m", "compileall", "-q", str(folder)], capture_output=True,
                       env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
        timing = measure([PYTHON, "-c", code], runs=5, cwd=folder)
        rows.append(f"| {label} | {fmt(timing.seconds) if timing.seconds is not None else timing.note} | "
                    f"{fmt(timing.peak_mb, 'MB')} |")
        if label == "specgen: import api.client":
            target("importing the GitHub client package (specgen)", timing.seconds, 1.0, "s")
    return rows


def fmt(value: float | None, unit: str = "s") -> str:
    return "—" if value is None else f"{value:.2f} {unit}"


def ratio(ours: float | None, peer: float | None) -> str:
    return "—" if ours is None or peer is None else f"{ours / peer:.2f}"


def octokit_spec() -> Path | None:
    folder = CACHE / "octokit"
    if not (folder / "node_modules").exists():
        done = subprocess.run(["npm", "install", "--silent", "--no-save", "--no-audit", "--no-fund", "--prefix",
                               str(folder), "@octokit/openapi@23.0.2"], capture_output=True, text=True)
        if done.returncode != 0:
            return None
    found = sorted((folder / "node_modules" / "@octokit" / "openapi" / "generated").glob("api.github.com.json"))
    return found[0] if found else None


def generation_section(lines: list[str]) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    specs: dict[str, Path] = {"ours (78 operations)": ROOT / "generated" / "integrations" / "openapi.json"}
    for size in (10, 100, 1000):
        path = work / f"synthetic-{size}.json"
        path.write_text(subprocess.run([PYTHON, "-m", "bench.synthetic", str(size)], capture_output=True, text=True,
                                       cwd=ROOT, check=True).stdout)
        specs[f"synthetic {size} resources"] = path
    github = octokit_spec()
    if github:
        specs["GitHub REST (@octokit/openapi)"] = github
    lines += ["## Generation (whole process, median of runs)", "",
              f"The tools' runs are taken in turns; {RUNS} of each, but one of fastapi-code-generator and of "
              "datamodel-code-generator on the synthetic 1000 and GitHub's spec (a minute each there).", "",
              "| spec | tool | time | peak memory | specgen cold / tool | specgen warm / tool |",
              "|---|---|---|---|---|---|"]
    scaling: list[tuple[int, float]] = []
    import_rows: list[str] = []
    for label, spec in specs.items():
        big = "GitHub" in label or "1000" in label  # the peers that take a minute there run once
        cache = Path(tempfile.mkdtemp(prefix="bench-cache-"))
        plans: dict[str, tuple[list[str], dict[str, str] | None, Callable[[], None] | None]] = {}
        for tool, command in generators(spec, work / label.replace(" ", "_")).items():
            env, prepare = None, None
            if tool.startswith("specgen"):
                env = {"SPECGEN_CACHE": str(cache)}
                if "cold" in tool:  # nothing to reuse: no cache and no previous output
                    prepare = wipe(cache, Path(command[command.index("--out") + 1]))
            plans[tool] = (command, env, prepare)
        runs = {tool: 1 if big and not (tool.startswith("specgen") or tool.startswith("openapi-python-client"))
                else RUNS for tool in plans}
        results = measure_in_turns(plans, runs)
        for tool, timing in results.items():
            print(f"  {label}: {tool}: {fmt(timing.seconds)} {timing.note}", file=sys.stderr, flush=True)
        if label.startswith("ours"):
            results[SPECGEN_EDIT] = edited_operation_timing(spec, work / "edit", cache)
        ours, warm = results[SPECGEN_COLD], results[SPECGEN_WARM]
        for tool, timing in results.items():
            shown = fmt(timing.seconds) if timing.seconds is not None else timing.note
            ratios = "| |" if tool.startswith("specgen") else \
                f"| {ratio(ours.seconds, timing.seconds)} | {ratio(warm.seconds, timing.seconds)} |"
            lines.append(f"| {label} | {tool} | {shown} | {fmt(timing.peak_mb, 'MB')} {ratios}")
        if label.startswith("synthetic") and ours.seconds is not None:
            scaling.append((int(label.split()[1]), ours.seconds))
        opc = results["openapi-python-client (client)"].seconds
        cold_ratio = None if ours.seconds is None or opc is None else ours.seconds / opc
        if "GitHub" in label:
            import_rows = import_timings(work / label.replace(" ", "_"))
        if label.startswith("ours"):
            target("cold generation of our spec, specgen / openapi-python-client", cold_ratio, 1.0)
            target("warm regeneration after editing one operation (ours)", results[SPECGEN_EDIT].seconds, 0.5, "s")
        elif "GitHub" in label or "1000" in label:
            target(f"cold generation, {label}, specgen / openapi-python-client", cold_ratio, 2.0)
            target(f"peak memory, {label}, specgen cold", ours.peak_mb, 700, "MB")
    lines.append("")
    if import_rows:
        lines += ["## Importing the generated client of GitHub's spec (bytecode compiled first, median of 5)", "",
                  "| what | time | peak memory |", "|---|---|---|", *import_rows, ""]
    noop_out = work / "noop"
    spec = specs["ours (78 operations)"]
    subprocess.run([SPECGEN, "-q", "generate", str(spec), "--out", str(noop_out), "--package", "api"], check=True, cwd=ROOT)
    noop = measure([SPECGEN, "-q", "generate", str(spec), "--out", str(noop_out), "--package", "api"], runs=5)
    lines += [f"No-op run (nothing changed): **{fmt(noop.seconds)}** (target ≤ 0.15 s).", ""]
    target("no-op run (ours)", noop.seconds, 0.15, "s")
    if len(scaling) >= 2:
        xs = [math.log(n) for n, _ in scaling]
        ys = [math.log(t) for _, t in scaling]
        mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
        slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
        lines += [f"Scaling: time ∝ size^**{slope:.2f}** over synthetic specs of "
                  f"{', '.join(str(n) for n, _ in scaling)} resources (includes ~constant start-up; "
                  f"≤ 1 means no worse than linear).", ""]
    shutil.rmtree(work, ignore_errors=True)


def diff_section(lines: list[str]) -> None:
    """`specgen diff` on GitHub's spec: against itself, and against a copy with a property added to its most used
    component (a real diff, reported at every use of the component)."""
    github = octokit_spec()
    if not github:
        lines += ["## specgen diff", "", "GitHub's spec is not installed (make bench installs it): not measured.", ""]
        target("specgen diff, GitHub's spec against itself", None, 2.0, "s")
        return
    work = Path(tempfile.mkdtemp(prefix="bench-diff-"))
    edited = json.loads(github.read_text())
    edited["components"]["schemas"]["simple-user"]["properties"]["pronouns"] = {"type": "string"}
    (work / "edited.json").write_text(json.dumps(edited))
    same = measure([SPECGEN, "diff", str(github), str(github)], runs=3)
    changed = measure([SPECGEN, "diff", str(github), str(work / "edited.json")], runs=3)
    lines += ["## specgen diff (GitHub's spec, median of 3)", "", "| diff | time | peak memory |", "|---|---|---|",
              f"| against itself | {fmt(same.seconds)} | {fmt(same.peak_mb, 'MB')} |",
              f"| a property added to `simple-user` | {fmt(changed.seconds)} {changed.note} | "
              f"{fmt(changed.peak_mb, 'MB')} |", ""]
    target("specgen diff, GitHub's spec against itself", same.seconds, 2.0, "s")
    shutil.rmtree(work, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def client_section(lines: list[str]) -> None:
    """Per-call cost of the generated client over raw httpx, same server, same request."""
    import httpx

    sys.path[:0] = [str(ROOT / "generated"), str(ROOT)]
    from app.auth import issue_key
    from app.db import make_engine
    from app.main import create
    from integrations.client import AsyncClient, Client

    data = Path(tempfile.mkdtemp(prefix="bench-client-"))
    engine = make_engine(f"sqlite:///{data / 'c.db'}")
    app = create(engine, data_dir=data)
    key = issue_key(engine, "env-1", ["connector:read", "connector:write"])
    rounds = 8  # raw and generated alternate in blocks, so drift on a shared machine hits both alike
    calls = int(os.environ.get("BENCH_CALLS", "400")) // rounds * rounds

    async def async_pair() -> tuple[float, float]:
        transport = httpx.ASGITransport(app=app)
        times = [0.0, 0.0]
        async with httpx.AsyncClient(transport=transport, base_url="http://b", headers={"X-API-Key": key}) as raw, \
                AsyncClient("http://b", api_key=key, transport=httpx.ASGITransport(app=app)) as ours:
            created = (await raw.post("/api/v1/connectors", json={"name": "n", "authentication_implementation_id": "1",
                       "timezone": "UTC", "date_format": "Y", "rate_limit_unit": "second", "rate_limit_duration": 1})).json()
            cid = created["data"]["id"]
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(calls // rounds):
                    (await raw.get(f"/api/v1/connectors/{cid}")).json()
                times[0] += time.perf_counter() - started
                started = time.perf_counter()
                for _ in range(calls // rounds):
                    await ours.patchworks_connectors.patchworks_connectors_show(connector=cid)
                times[1] += time.perf_counter() - started
        return times[0], times[1]

    raw_async, ours_async = asyncio.run(async_pair())
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "uvicorn"), "--factory", "bench.servers:generated",
                               "--port", str(port), "--log-level", "warning"], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": f"{ROOT / 'generated'}:{ROOT}",
                                   "DATABASE_URL": f"sqlite:///{data / 'c.db'}", "BENCH_DATA": str(data)})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base)
        raw_sync = ours_sync = 0.0
        with httpx.Client(base_url=base, headers={"X-API-Key": key}) as raw, Client(base, api_key=key) as ours_client:
            cid = raw.get("/api/v1/connectors").json()["data"][0]["id"]
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(calls // rounds):
                    raw.get(f"/api/v1/connectors/{cid}").json()
                raw_sync += time.perf_counter() - started
                started = time.perf_counter()
                for _ in range(calls // rounds):
                    ours_client.patchworks_connectors.patchworks_connectors_show(connector=cid)
                ours_sync += time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    lines += ["## Client overhead (same server, same request; target < 15 %)", "",
              "| mode | raw httpx per call | generated client per call | overhead |", "|---|---|---|---|",
              f"| async, in-process ASGI | {raw_async / calls * 1e3:.3f} ms | {ours_async / calls * 1e3:.3f} ms | "
              f"{(ours_async / raw_async - 1) * 100:+.1f} % |",
              f"| sync, uvicorn on loopback | {raw_sync / calls * 1e3:.3f} ms | {ours_sync / calls * 1e3:.3f} ms | "
              f"{(ours_sync / raw_sync - 1) * 100:+.1f} % |", "",
              "Both sides include the server's time for the request, so the overhead is the client's share of a "
              "whole round trip.", ""]
    engine.dispose()


def wait_for(base: str) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/openapi.json", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"server at {base} did not start")


async def load(base: str, key: str, method: str, total: int, concurrency: int) -> float:
    """Requests per second from `concurrency` workers sending `total` requests in all (bounded)."""
    import httpx

    body = {"name": "n", "authentication_implementation_id": "1", "timezone": "UTC", "date_format": "Y",
            "rate_limit_unit": "second", "rate_limit_duration": 1}
    remaining = total
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                if method == "list":
                    response = await client.get("/api/v1/connectors", params={"per_page": 15})
                else:
                    response = await client.post("/api/v1/connectors", json=body)
                response.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return total / (time.perf_counter() - started)


def server_section(lines: list[str]) -> None:
    sys.path[:0] = [str(ROOT / "generated"), str(ROOT)]
    from app.auth import issue_key
    from app.db import make_engine

    total = int(os.environ.get("BENCH_REQUESTS", "1500"))
    rows = []
    for factory in ("generated", "handwritten"):
        data = Path(tempfile.mkdtemp(prefix=f"bench-{factory}-"))
        url = f"sqlite:///{data / 's.db'}"
        engine = make_engine(url)
        key = issue_key(engine, "env-1", ["connector:read", "connector:write"])
        engine.dispose()
        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent / "uvicorn"), "--factory",
                                   f"bench.servers:{factory}", "--port", str(port), "--log-level", "warning"],
                                  cwd=ROOT, env={**os.environ, "PYTHONPATH": f"{ROOT / 'generated'}:{ROOT}",
                                                 "DATABASE_URL": url, "BENCH_DATA": str(data)})
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base)
            create_rps = asyncio.run(load(base, key, "create", total // 3, 8))
            list_rps = asyncio.run(load(base, key, "list", total, 8))
        finally:
            server.terminate()
            server.wait(timeout=10)
        rows.append((factory, list_rps, create_rps))
    (_, g_list, g_create), (_, h_list, h_create) = rows
    lines += ["## Server (uvicorn on loopback, SQLite, 8 concurrent clients; target ≥ 0.8× hand-written)", "",
              "| operation | generated server | hand-written FastAPI | generated / hand-written |", "|---|---|---|---|",
              f"| list (GET /api/v1/connectors) | {g_list:.0f} req/s | {h_list:.0f} req/s | {g_list / h_list:.2f} |",
              f"| create (POST /api/v1/connectors) | {g_create:.0f} req/s | {h_create:.0f} req/s | "
              f"{g_create / h_create:.2f} |", "",
              "The hand-written app does the same database work (same key lookup, same table) but no validation, "
              "problem+json, secret splitting or encryption.", ""]


def main() -> int:
    lines = ["# Benchmarks", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
             f"{platform.system()} {platform.release()}. Shared and noisy: read the ratios.", ""]
    body: list[str] = []
    # As pip installs a wheel: specgen's own bytecode compiled once, not recompiled on every run (PYTHONDONTWRITEBYTECODE
    # or an editable install would make each run compile the generator: a tenth of a second of a warm run).
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "generator")], check=True, capture_output=True)
    for section in (generation_section, diff_section, client_section, server_section):
        print(f"bench: {section.__name__.replace('_section', '')}", file=sys.stderr, flush=True)
        section(body)
    lines += ["## Targets (ratios are specgen / peer, same run)", "", "| what | measured | target | |",
              "|---|---|---|---|", *SUMMARY, "", *body]
    report = "\n".join(lines) + "\n"
    (ROOT / "bench" / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "bench" / "results" / "latest.md").write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
