#!/usr/bin/env bash
# Create the course's virtual environment in .venv and install the pinned
# packages. Safe to run again: it reinstalls only when the pins change.
# Needs Python 3.11 (set PYTHON to choose the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi

stamp=.venv/.installed-requirements
wanted=$(cat requirements.txt constraints.txt | sha256sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
    echo "$wanted" > "$stamp"
fi
.venv/bin/python -c "import sys; print('Course environment ready:', sys.prefix)"
