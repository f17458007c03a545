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
# One BLAS thread a process: pytest runs two processes on two cores, and
# more threads only wait for each other (nbval of the deep notebook alone:
# 53 s with OpenBLAS's one thread a core, 22 s with one).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
exec python -m pytest "$@"
