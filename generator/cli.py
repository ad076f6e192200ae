"""specgen generate | lint | check. Exit 0 ok, 1 check found drift, 2 the spec is unusable."""

from __future__ import annotations

import argparse
import sys
import traceback

from .diagnostics import SpecError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="specgen", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="generate models, server and client")
    gen.add_argument("spec")
    gen.add_argument("--out", default="generated")
    gen.add_argument("--package", default="api")
    gen.add_argument("--force", action="store_true", help="regenerate even when nothing changed")
    gen.add_argument("--strict", action="store_true",
                     help="fail on any warning: a validator finding, a renamed model, a type that fell back to Any")
    lint = sub.add_parser("lint", help="validate the spec and apply the house rules")
    lint.add_argument("spec")
    chk = sub.add_parser("check", help="lint, then fail if the committed output is not what generation gives")
    chk.add_argument("spec")
    chk.add_argument("--out", default="generated")
    chk.add_argument("--package", default="api")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import pipeline

    progress = pipeline.stderr_progress(not args.quiet and sys.stderr.isatty())
    try:
        if args.command == "generate":
            outcome = pipeline.generate(args.spec, args.out, args.package, force=args.force, strict=args.strict,
                                        progress=progress)
            for warning in outcome.warnings:
                print(warning, file=sys.stderr)
            state = "up to date" if outcome.skipped else f"wrote {len(outcome.files)} files"
            if outcome.warnings:
                state += f", {len(outcome.warnings)} warning(s) (--strict makes them errors)"
            print(f"specgen: {outcome.destination}: {state}")
            return 0
        from .lint import lint
        from .load import load_spec

        found = lint(load_spec(args.spec))
        for diagnostic in found:
            print(diagnostic, file=sys.stderr)
        if found:
            print(f"specgen: {len(found)} problem(s) in {args.spec}", file=sys.stderr)
            return 2
        if args.command == "lint":
            print(f"specgen: {args.spec}: valid, house rules pass")
            return 0
        differences = pipeline.check(args.spec, args.out, args.package, progress=progress)
        for line in differences:
            print(line, file=sys.stderr)
        if differences:
            print("specgen: generated code is stale; run `make generate` and commit the result", file=sys.stderr)
            return 1
        print(f"specgen: {args.out}/{args.package} is up to date with {args.spec}")
        return 0
    except SpecError as exc:
        for diagnostic in exc.diagnostics:
            print(diagnostic, file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
    except Exception as exc:  # a bug of ours, not the spec's: say so plainly, trace with -v
        print(f"specgen: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2
