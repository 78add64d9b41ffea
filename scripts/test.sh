#!/usr/bin/env bash
# The whole test suite: lint, format check, then pytest (SQLite always; PostgreSQL too when
# PMTREC_TEST_DATABASE_URL is set; real-data tests when PMTREC_DATA_DIR is set).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
