# Leadloop: `make run` sets everything up and serves; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/leadloop/web/static/vendor
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install test test-sqlite test-postgres bench bench-assessment bench-security bench-distribution bench-selling bench-sales bench-nurture bench-analytics bench-production lint messages demo clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

.stamp-python: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

.stamp-npm: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Front-end libraries come from npm (pinned in package-lock.json) and are served by the app itself.
# Alpine is its CSP build: it never evaluates code with `new Function`, so the policy needs no
# 'unsafe-eval' (docs/security/csp.md). SortableJS drags the pipeline board's cards; Chart.js
# draws the analytics charts (on a canvas, styled through the CSSOM, which the policy allows).
$(VENDOR)/.done: .stamp-npm
	mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx.min.js
	cp node_modules/@alpinejs/csp/dist/cdn.min.js $(VENDOR)/alpine.min.js
	cp node_modules/sortablejs/Sortable.min.js $(VENDOR)/sortable.min.js
	cp node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	@touch $@

install: .stamp-python $(VENDOR)/.done messages

messages: .stamp-python
	$(BIN)/python -m leadloop.i18n compile

run: install
	$(BIN)/leadloop migrate
	$(BIN)/leadloop collectstatic --noinput -v 0
	$(BIN)/leadloop demo --if-empty
	$(BIN)/leadloop serve --host $(HOST) --port $(PORT)

demo: install
	$(BIN)/leadloop migrate
	$(BIN)/leadloop demo

test: install
	@bash scripts/test.sh

lint: install
	@bash scripts/lint.sh

bench: install
	$(BIN)/python bench/run_all.py
	$(BIN)/python bench/header_mapping.py
	$(MAKE) bench-assessment
	$(MAKE) bench-security
	$(MAKE) bench-distribution
	$(MAKE) bench-selling
	$(MAKE) bench-sales
	$(MAKE) bench-nurture
	$(MAKE) bench-analytics
	$(MAKE) bench-production

# The assessment's figures (docs/benchmarks.md, "Assessment"); 1M-lead lookups take
# `bench/dedup_lookups.py` with its default --leads 1000000 (about 8 minutes to load).
bench-assessment: install
	$(BIN)/python bench/assess_cost.py --leads 100000
	$(BIN)/python bench/dedup_quality.py --people 20000
	$(BIN)/python bench/dedup_names.py --people 5000 --febrl --fit
	$(BIN)/python bench/dedup_lookups.py --leads 200000 --lookups 10000
	$(BIN)/python bench/predictive_auc.py

# What the hardening costs (docs/benchmarks.md, "Security"): audit entries on lead reads, and
# the intake's post counters on SQLite and PostgreSQL.
bench-security: install
	$(BIN)/python bench/audit_cost.py --leads 20000 --requests 300 --rounds 3
	$(BIN)/python bench/throttle_cost.py --database sqlite
	$(BIN)/python bench/throttle_cost.py --database postgres

# Routing (docs/benchmarks.md, "Distribution"): the decision with 50 rules and 200 reps, 32
# reps emptying a pool of 10,000, and speed to lead at 100 leads/s (SQLite and PostgreSQL).
bench-distribution: install
	$(BIN)/python bench/routing.py
	$(BIN)/python bench/webhooks.py --leads 500 --deliveries 1000

# Selling leads (docs/benchmarks.md, "Selling leads"): ping-post auctions among 10 local buyer
# servers (two slow, one failing), HTTP deliveries to a local buyer, and the intake with routing
# and selling on (SQLite and PostgreSQL).
bench-selling: install
	$(BIN)/python bench/selling.py --parts auction,intake

# Sales follow-up (docs/benchmarks.md, "Sales follow-up"): 1,000,000 leads and 200 reps on SQLite
# and PostgreSQL; My day, the pipeline and the manager's view, the first-contact sweep, logging
# calls. Loading takes 5-10 minutes a database; LEADLOOP_BENCH_REUSE=1 keeps a loaded one.
bench-sales: install
	$(BIN)/python bench/sales.py $(if $(filter 1,$(LEADLOOP_BENCH_REUSE)),--reuse)

# Analytics (docs/benchmarks.md, "Analytics"): the source report and the KPIs over 12 months at
# 1,000,000 leads on the sales bench's databases (bench-sales loads them; --reuse keeps them).
bench-analytics: install
	$(BIN)/python bench/analytics.py $(if $(filter 1,$(LEADLOOP_BENCH_REUSE)),--reuse)

# The production shape (docs/scaling.md; docs/benchmarks.md, "The whole loop" and "Fault
# drills"): every part of the loop at once for ten minutes, embedded (SQLite) and production
# (PostgreSQL, RQ on Redis) on the same machine; then the faults under load, on a PostgreSQL
# and a Redis server of the drill's own.
bench-production: install
	$(BIN)/python bench/rq_worker.py
	$(BIN)/python bench/whole_loop.py --shapes embedded,production --duration 600
	$(BIN)/python bench/fault_drills.py

# Nurture (docs/benchmarks.md, "Nurture"): the mail tracking endpoints under wrk on SQLite.
bench-nurture: install
	$(BIN)/python bench/nurture_tracking.py
	$(BIN)/python bench/nurture_workflows.py

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .stamp-python .stamp-npm staticfiles
