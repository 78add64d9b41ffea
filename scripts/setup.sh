#!/usr/bin/env bash
# Create the virtual environment in .venv (if missing) and install the product into it.
# Usage: scripts/setup.sh [EXTRAS]    (default extras: trainer,service,postgres,dev,nash)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-trainer,service,postgres,dev,nash}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${extras//,/-}"
if [ ! -f "$stamp" ]; then
  # (This machine family's pip config lists local index folders that may be absent; pip
  # warns about each of them: those lines are dropped, everything else is shown.)
  # pip prints a line per package it collects and installs, so a slow machine shows progress
  # (README: a few minutes on a small CPU, torch is the large part).
  echo "setup: installing .[${extras}] into .venv (pip's progress follows)" >&2
  started=$SECONDS
  .venv/bin/python -m pip install --disable-pip-version-check --progress-bar on \
    -e ".[${extras}]" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  touch "$stamp"
  echo "setup: done in $((SECONDS - started)) s" >&2
fi
