#!/usr/bin/env bash
# The one lint that `make lint` and `make test` both run: ruff (lint and format), the import
# contracts, mypy and missing migrations. The tools are pinned in pyproject.toml, so a new
# release cannot turn a fresh machine red.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export LEADLOOP_VAR_DIR="${LEADLOOP_VAR_DIR:-$(mktemp -d)}"

$BIN/ruff check src tests bench
$BIN/ruff format --check src tests bench
out=$($BIN/lint-imports --no-cache --no-logo) || { echo "$out"; exit 1; }; echo "$out" | tail -1
$BIN/mypy src
$BIN/leadloop makemigrations --check --dry-run >/dev/null || {
  echo "Model changes without a migration: run 'leadloop makemigrations'."; exit 1; }
