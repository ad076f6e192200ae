"""Issue API keys: python -m app.keys create --tenant ID --scope SCOPE [--scope ...]."""

from __future__ import annotations

import argparse

from .auth import issue_key
from .db import make_engine

ALL_SCOPES = [
    "environment:admin",
    "external_service_registration:read", "external_service_registration:write",
    "external_data_source:read", "external_data_source:write",
    "connectors:read", "connectors:write", "credentials:read", "credentials:write",
    "connector:read", "connector:write",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.keys")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key and print it (shown once; stored hashed)")
    create.add_argument("--tenant", required=True, help="the environment or organisation id the key belongs to")
    create.add_argument("--scope", action="append", default=[], help=f"repeatable; 'all' for every scope: {ALL_SCOPES}")
    create.add_argument("--label", default="")
    args = parser.parse_args(argv)
    scopes = ALL_SCOPES if "all" in args.scope else args.scope
    print(issue_key(make_engine(), args.tenant, scopes, args.label))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
