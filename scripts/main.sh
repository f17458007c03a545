#!/usr/bin/env bash
# The main job: set up the environment, regenerate the student release from
# the instructor source, and grade the bundled example classes with the
# course's grading command (nbgrader in a sandbox).
#
# The example classes are graded in a scratch copy of the course,
# example-course/ beside this repository's files (or $EXAMPLE_COURSE), made
# anew each run and left there to look at: the course's own submitted/,
# gradebook and grades.csv belong to the instructor and are never touched.
# EXAMPLE_STUDENTS (a comma-separated list of example students) grades only
# those, for a quick look. SKIP_SETUP=1 leaves out scripts/setup.sh (no
# apt-get, no pip) where the environment is set up already: the tests run
# the job so, in a copy of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${SKIP_SETUP:-}" != 1 ]; then
    bash scripts/setup.sh
fi
# nbgrader runs the `alembic` command of the environment: put its bin/ first.
export PATH="$PWD/.venv/bin:$PATH"
export MPLBACKEND=Agg

# Generating writes the assignments into a gradebook: a throwaway one here,
# and into a scratch release folder, copied over release/ file by file
# (only what changed), so that release/ is never missing while it is rebuilt.
generation=$(mktemp -d)
trap 'rm -rf "$generation"' EXIT
# One command for every assignment of source/, the Chinese editions
# included: nbgrader matches "*" against the assignment folders, and pays
# its start-up once (4 s for the four, against 9 s one by one).
nbgrader generate_assignment "*" --force --log-level=WARN \
    --CourseDirectory.db_url="sqlite:///$generation/gradebook.db" \
    --CourseDirectory.release_directory="$generation/release"
for folder in source/*/; do
    assignment=$(basename "$folder")
    python scripts/update_release.py "$generation/release/$assignment" "release/$assignment"
done
python -m examples.grade_examples --into "${EXAMPLE_COURSE:-$PWD/example-course}" \
    ${EXAMPLE_STUDENTS:+--students "$EXAMPLE_STUDENTS"}
