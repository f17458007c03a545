#!/usr/bin/env bash
# The main job: set up the environment, regenerate the student release from
# the instructor source, and grade the bundled example classes with the
# course's grading command (nbgrader in a sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# nbgrader runs the `alembic` command of the environment: put its bin/ first.
export PATH="$PWD/.venv/bin:$PATH"
export MPLBACKEND=Agg

for folder in source/*/; do   # every assignment, the Chinese editions included
    assignment=$(basename "$folder")
    nbgrader generate_assignment "$assignment" --force --log-level=WARN
    echo "Regenerated release/$assignment from source/$assignment"
done
python -m examples.grade_examples
