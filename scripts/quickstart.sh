#!/usr/bin/env bash
# Fresh machine to a serving recommender: install, train PMTRec on Office, serve the bundle.
# Needs PMTREC_DATA_DIR (the folder holding office/train.txt ...) or a network to fetch the data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PMTREC_DATA_DIR="${PMTREC_DATA_DIR:-data}"
.venv/bin/python -m trainer.fit --dataset office --out bundles/office --overwrite
if [ -f service/__main__.py ]; then
  port="${PMTREC_PORT:-8000}"
  cat <<MSG

Serving bundles/office on http://127.0.0.1:${port} (Ctrl-C stops). Try:
  curl -s -X POST http://127.0.0.1:${port}/recommend -H 'Content-Type: application/json' \\
       -d '{"user_id": "42", "k": 5}'
MSG
  exec .venv/bin/python -m service --bundle bundles/office --port "$port"
fi
