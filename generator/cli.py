"""specgen generate | lint | check. Exit 0 ok, 1 check found drift, 2 the spec is unusable."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

from .config import Settings, load_settings
from .diagnostics import Diagnostic, Level, SpecError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specgen", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="generate models, server and client")
    gen.add_argument("spec", nargs="?", help="the root document (default: [tool.specgen] spec in pyproject.toml)")
    gen.add_argument("--out", help="output folder (default: [tool.specgen] out, else generated)")
    gen.add_argument("--package", help="package name (default: [tool.specgen] package, else api)")
    gen.add_argument("--force", action="store_true", help="regenerate even when nothing changed")
    gen.add_argument("--strict", action="store_true",
                     help="fail on any warning: a validator finding, a renamed model, a type that fell back to Any")
    lint = sub.add_parser("lint", help="validate the spec and apply the house rules")
    lint.add_argument("spec", nargs="?")
    chk = sub.add_parser("check", help="lint, then fail if the committed output is not what generation gives")
    chk.add_argument("spec", nargs="?")
    chk.add_argument("--out")
    chk.add_argument("--package")
    dif = sub.add_parser("diff", help="the changes from BASE to REVISION, breaking ones first; exit 1 on a breaking one")
    dif.add_argument("base", help="a spec file, or REV:path at a git revision (origin/main:spec/openapi.yaml)")
    dif.add_argument("revision", help="the same, the newer side")
    dif.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    dif.add_argument("--fail-on", choices=("error", "warning"), default="error",
                     help="also fail on warnings (default: only on a breaking change the major version does not allow)")
    mock = sub.add_parser("mock", help="serve the generated server, answering from the spec's examples")
    mock.add_argument("spec", nargs="?")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=int, default=4010)
    mock.add_argument("--key", action="append", default=[],
                      help="accept only this credential (repeatable; default: any non-empty one)")
    conf = sub.add_parser("conformance", help="prove a server does what the spec says (schemathesis, openapi-core)")
    conf.add_argument("spec", nargs="?")
    target = conf.add_mutually_exclusive_group(required=True)
    target.add_argument("--base-url", help="a running server")
    target.add_argument("--app", help="an ASGI app in process: module:attribute, or module:factory()")
    conf.add_argument("--header", "-H", action="append", default=[], metavar="NAME:VALUE",
                      help="sent with every request (credentials: -H 'Authorization: Bearer KEY')")
    conf.add_argument("--key", help="one credential presented under every security scheme of the spec")
    conf.add_argument("--examples", type=int, default=10, help="generated requests per operation (default 10)")
    conf.add_argument("--stateful", type=int, default=10, help="chains along links (0: none; default 10)")
    conf.add_argument("--paths", help="only the operations whose path this regex finds")
    conf.add_argument("--no-negative", action="store_true",
                      help="valid cases only (invalid ones must get a documented 4xx: a spec may document none)")
    conf.add_argument("--junit", help="write a JUnit XML report here")
    return parser


def _shown(diagnostic: Diagnostic, spec: str) -> Diagnostic:
    """A diagnostic with its file relative to the current directory, or absolute outside it (the loader names
    files relative to the root document's folder)."""
    if not diagnostic.file or os.path.isabs(diagnostic.file):
        return diagnostic
    located = Path(spec).resolve().parent / diagnostic.file
    if not located.exists():
        return diagnostic
    inside = located.is_relative_to(Path.cwd().resolve())
    return replace(diagnostic, file=os.path.relpath(located) if inside else str(located))


def _tally(found: list[Diagnostic]) -> str:
    errors = sum(d.level is Level.ERROR for d in found)
    return f"{errors} error(s), {len(found) - errors} warning(s)"


def _resolve(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings for this run: [tool.specgen]'s when the spec is the one it names (or none is given), else the
    built-in defaults; command-line values win over either."""
    if args.spec and settings.spec and Path(args.spec).resolve() != Path(settings.spec).resolve():
        settings = Settings()
    args.spec = args.spec or settings.spec
    if not args.spec:
        raise SpecError([Diagnostic("specgen", 0, "", "config", "no spec given, and no [tool.specgen] spec in "
                                                                 "pyproject.toml")])
    if hasattr(args, "out"):
        args.out = args.out or settings.out or "generated"
        args.package = args.package or settings.package or "api"
    return settings


def _mock(args: argparse.Namespace) -> int:
    import uvicorn

    from .mock import build

    mock = build(args.spec, keys=args.key)
    print(f"specgen mock: {mock.title or args.spec}, {len(mock.operations)} operation(s) at http://{args.host}:{args.port}")
    for operation in mock.operations:
        print(f"  {operation.method:7} {operation.path}  → {operation.status} ({operation.source})")
    sys.stdout.flush()
    uvicorn.run(mock.app, host=args.host, port=args.port, log_level="warning")
    return 0


def _conformance(args: argparse.Namespace) -> int:
    from . import conformance
    from .load import load_spec

    document = load_spec(args.spec).document
    headers = {}
    for header in args.header:
        name, _, value = header.partition(":")
        headers[name.strip()] = value.strip()
    app = conformance.load_app(args.app) if args.app else None
    report = conformance.run(document, base_url=args.base_url, app=app, headers=headers, key=args.key,
                             examples=args.examples, stateful=args.stateful, paths=args.paths,
                             negative=not args.no_negative)
    for line in report.lines():
        print(line)
    if args.junit:
        Path(args.junit).write_text(report.junit(), encoding="utf-8")
    return 1 if report.failed else 0


def _diff(args: argparse.Namespace) -> int:
    from .diff import as_json, as_markdown, diff, summary

    report = diff(args.base, args.revision)
    if args.format == "json":
        print(as_json(report))
    elif args.format == "markdown":
        print(as_markdown(report), end="")
    else:
        for change in report.changes:
            print(change)
        print(f"specgen: {args.base} → {args.revision}: {summary(report)}", file=sys.stderr)
    return 1 if report.failed(Level.WARNING if args.fail_on == "warning" else Level.ERROR) else 0


def run() -> NoReturn:
    """The console script: `main`, then out without tearing the interpreter down. Freeing every object
    datamodel-code-generator built takes a tenth of a cold run, and nothing is left to clean up: files are
    written and closed, worker processes joined."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import pipeline

    progress = pipeline.stderr_progress(not args.quiet and sys.stderr.isatty())
    spec = getattr(args, "spec", None) or ""
    try:
        if args.command == "diff":
            spec = f"{args.base} → {args.revision}"
            return _diff(args)
        settings = _resolve(args, load_settings())
        spec = args.spec
        if args.command == "mock":
            return _mock(args)
        if args.command == "conformance":
            return _conformance(args)
        if args.command == "generate":
            outcome = pipeline.generate(spec, args.out, args.package, force=args.force,
                                        strict=args.strict or settings.strict, settings=settings, progress=progress)
            for warning in outcome.warnings:
                print(_shown(warning, spec), file=sys.stderr)
            for operation, method in outcome.added:
                print(f"specgen: new operation {operation}: implement handlers.{method}", file=sys.stderr)
            for operation, method in outcome.removed:
                print(f"specgen: operation removed {operation}: handlers.{method} is no longer called", file=sys.stderr)
            state = "up to date" if outcome.skipped else f"wrote {len(outcome.files)} files"
            if outcome.warnings:
                state += f", {len(outcome.warnings)} warning(s) (--strict makes them errors)"
            print(f"specgen: {outcome.destination}: {state}")
            return 0
        from .lint import errors, lint
        from .load import load_spec

        found = lint(load_spec(spec), settings)
        for diagnostic in found:
            print(_shown(diagnostic, spec), file=sys.stderr)
        if found:
            print(f"specgen: {spec}: {_tally(found)}", file=sys.stderr)
        if errors(found):
            return 2
        if args.command == "lint":
            print(f"specgen: {spec}: valid, house rules pass" if not found else f"specgen: {spec}: valid")
            return 0
        differences = pipeline.check(spec, args.out, args.package, settings=settings, progress=progress)
        for line in differences:
            print(line, file=sys.stderr)
        if differences:
            print("specgen: generated code is stale; run `make generate` and commit the result", file=sys.stderr)
            return 1
        print(f"specgen: {args.out}/{args.package} is up to date with {spec}")
        return 0
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            print(_shown(diagnostic, spec), file=sys.stderr)
        print(f"specgen: {spec or 'specgen'}: {_tally(exc.diagnostics)}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
    except Exception as exc:  # a bug of ours, not the spec's: say so plainly, trace with -v
        print(f"specgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
