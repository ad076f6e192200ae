#!/usr/bin/env bash
# `make reliability` (inside scripts/with-postgres.sh): the attack and fault reproducers on SQLite and PostgreSQL,
# then, for each database named (default: sqlite postgresql), schemathesis over every operation (its coverage
# phase and CONFORMANCE_EXAMPLES generated examples: over 10,000 cases) and the latency and memory figures.
# Loopback only. CI runs `scripts/reliability.sh --no-reproducers postgresql` after `make test`, which ran the
# reproducers on both databases and schemathesis on SQLite.
set -euo pipefail
BIN=.venv/bin
export PYTHONPATH=generated:.
if [ "${1:-}" = --no-reproducers ]; then shift; else
  "$BIN/pytest" -q -p no:cacheprovider tests/test_reliability.py
fi
[ $# -gt 0 ] || set -- sqlite postgresql
for name in "$@"; do
  url=$([ "$name" = postgresql ] && echo "$TEST_DATABASE_URL" || true)
  CONFORMANCE_DATABASE_URL=$url "$BIN/pytest" -q -p no:cacheprovider \
    tests/test_conformance.py::test_every_operation_conforms
  DATABASE_URL=$url "$BIN/python" scripts/reliability_figures.py
done
