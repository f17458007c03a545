#!/usr/bin/env bash
# Set up the environment, then run the whole test suite: helper unit tests,
# nbval over the instructor and companion notebooks, the release checks and
# the nbgrader round trip. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# nbgrader runs the `alembic` command of the environment: put its bin/ first.
export PATH="$PWD/.venv/bin:$PATH"
export MPLBACKEND=Agg
exec python -m pytest "$@"
