#!/usr/bin/env bash
# Creates .venv (or $VENV) with noisefilter and everything its tests and integrations need.
# A regular (non-editable) install: what users get, shipped model included.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
python3 -m venv "$VENV"
# the system pip (23.x) cannot install trafilatura's lxml[html-clean] extra: upgrade it first
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet ".[all]"
echo "installed noisefilter into $VENV"
