# Two commands for a new user: `make run` (the service on SQLite) and `make test` (the suite).
# Both build the environment from the lock file first; nothing but python3 (3.11+) is needed.

UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-postgres lint spec vendor messages screenshots check bench bench-write bench-batch bench-export bench-analytics bench-quality bench-soak bench-instructions clean

$(UV):
	python3 -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --quiet --compile-bytecode
	touch $@

run: $(VENV)/.synced  ## Set up and serve the API on SQLite (./decision_log.db)
	$(VENV)/bin/decision-log serve --host $(HOST) --port $(PORT)

test: $(VENV)/.synced  ## Set up and run the suite (SQLite unless TEST_DATABASE_URL names PostgreSQL)
	$(VENV)/bin/pytest

test-postgres: $(VENV)/.synced  ## The suite on the local PostgreSQL server
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/postgres} $(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy app

spec: $(VENV)/.synced  ## Regenerate the committed OpenAPI spec
	$(VENV)/bin/python -m app.openapi

vendor:  ## Refresh the pages' browser assets from the npm registry (app/web/static/vendor/VERSIONS.json), checksums checked
	python3 tools/vendor_assets.py

messages: $(VENV)/.synced  ## Extract the pages' messages and merge them into the catalogues (app/web/locale): then translate
	$(VENV)/bin/pybabel extract -F babel.cfg -o app/web/locale/messages.pot --no-location --sort-output --project=decision-log -w 120 .
	$(VENV)/bin/pybabel update -i app/web/locale/messages.pot -d app/web/locale --no-fuzzy-matching --ignore-obsolete -w 120

screenshots: $(VENV)/.synced  ## The pages' screenshots in docs/screenshots, taken by the browser test from the demo data
	DECISION_LOG_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -q tests/web/test_browser.py

bench-write: $(VENV)/.synced  ## POST /v1/decisions vs a raw asyncpg endpoint on the local PostgreSQL (bench/write.py)
	$(VENV)/bin/python bench/write.py $(BENCH_ARGS)

bench-batch: $(VENV)/.synced  ## 100k decisions through POST /v1/decisions/batch vs asyncpg executemany/COPY (bench/batch.py)
	$(VENV)/bin/python bench/batch.py $(BENCH_ARGS)

bench-export: $(VENV)/.synced  ## Export of 100k decisions: server RSS while streaming, rows/s vs the driver (bench/export.py)
	$(VENV)/bin/python bench/export.py $(BENCH_ARGS)

bench-analytics: $(VENV)/.synced  ## /v1/analytics/basis on 1M (PostgreSQL) / 100k (SQLite) decisions vs raw SQL (bench/analytics.py)
	$(VENV)/bin/python bench/analytics.py $(BENCH_ARGS)

bench-quality: $(VENV)/.synced  ## /v1/analytics/calibration and /contradictions on 1M decisions (PostgreSQL) vs plain SQL (bench/quality.py)
	$(VENV)/bin/python bench/quality.py $(BENCH_ARGS)

bench-soak: $(VENV)/.synced  ## 50 clients for 60 s, 70/25/5 % reads/writes/analytics, --workers 2 on PostgreSQL; errors and acknowledged == stored (bench/soak.py)
	$(VENV)/bin/python bench/soak.py $(BENCH_ARGS)

bench-instructions: $(VENV)/.synced  ## Instructions per POST /v1/decisions (valgrind) vs another revision: BENCH_ARGS="--against REV"
	$(VENV)/bin/python bench/instructions.py $(BENCH_ARGS)

clean:
	rm -rf .uv $(VENV) .pytest_cache
