#!/usr/bin/env bash
# Fresh machine to a serving recommender: install, train Office's default model (EW from
# ALS-128), serve the bundle.
# Needs PMTREC_DATA_DIR (the folder holding office/train.txt ...) or a network to fetch the data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PMTREC_DATA_DIR="${PMTREC_DATA_DIR:-data}"
.venv/bin/python -m trainer.fit --dataset office --out bundles/office --overwrite
# The service prints a working example request once it listens.
exec .venv/bin/python -m service --bundle bundles/office --port "${PMTREC_PORT:-8000}"
