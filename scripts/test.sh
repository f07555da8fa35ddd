#!/usr/bin/env bash
# Set up the virtualenv (if needed) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${POLYBOT_VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test]'
set +e
"$VENV/bin/python" -m pytest "$@"
code=$?
set -e
# pytest exit 5 means "no tests collected": treat that as a failure, there must be tests.
exit $code
