#!/usr/bin/env bash
# Set up the virtualenv (if needed) and run polybot (default: one paper run on the local
# simulator with synthetic data). Extra arguments go to `polybot run`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${POLYBOT_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
exec "$VENV/bin/polybot" run "$@"
