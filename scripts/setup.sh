#!/usr/bin/env bash
# Create the course's virtual environment in .venv and install the pinned
# packages. Safe to run again: it reinstalls only when the pins change.
# Needs Python 3.11 (set PYTHON to choose the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian/Ubuntu packages the course needs beyond Python. They are installed
# with apt where they are missing and this user can (root, or sudo without a
# password); otherwise setup says which are missing, what for, and the
# command an administrator runs, and goes on: a student or an instructor on
# a shared server needs none of them to open the notebooks.
missing=()   # "package|what it is for"
need() {     # need PACKAGE WHAT-FOR: note PACKAGE as missing
    missing+=("$1|$2")
}

# The grading sandbox needs bubblewrap; prlimit and setpriv come with util-linux.
command -v bwrap >/dev/null || need bubblewrap "the grading sandbox (grading student code)"
# The tests run the grading flow against a real PostgreSQL server too.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    need postgresql "the gradebook tests on a PostgreSQL server"
fi
# The Chinese edition's figures need a font with Chinese characters
# (matplotlib's own font has none).
if ! fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" \
        && ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then
    need fonts-wqy-microhei "Chinese text in the Chinese edition's figures"
fi
# The browser tests drive Debian's chromium with Playwright (Playwright's own
# browser download does not work behind a closed network); CHROMIUM names
# another build.
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || need chromium "the browser tests of JupyterLab and formgrader"

if [ ${#missing[@]} -gt 0 ]; then
    packages=$(printf '%s\n' "${missing[@]}" | cut -d'|' -f1 | tr '\n' ' ')
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=none; fi
    fi
    installed=no
    if [ "$sudo" != none ]; then
        echo "Installing with apt: $packages"
        # shellcheck disable=SC2086 # $sudo is empty or "sudo -n", $packages a list
        if $sudo apt-get install -y -qq $packages >/dev/null 2>&1 \
                || { $sudo apt-get update -qq >/dev/null 2>&1 && $sudo apt-get install -y -qq $packages >/dev/null 2>&1; }; then
            installed=yes
        fi
    fi
    if [ "$installed" = no ]; then
        echo "These Debian packages are missing and could not be installed (they need root):" >&2
        printf '%s\n' "${missing[@]}" | sed 's/^\(.*\)|\(.*\)$/  \1: for \2/' >&2
        echo "An administrator installs them with: sudo apt-get install -y $packages" >&2
        echo "Going on without them: what needs them will not work until then." >&2
    fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi

stamp=.venv/.installed-requirements
wanted=$(cat requirements.txt requirements/*.txt constraints.txt pyproject.toml | sha256sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    # A pip that knows --python (22.3 and later; tests/test_package.py uses it).
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --no-compile -r requirements.txt -c constraints.txt
    # The grading sandbox's kernel provisioner, registered with jupyter_client
    # through the entry point in pyproject.toml (the code stays in grading/).
    .venv/bin/python -m pip install --quiet --no-compile --no-deps -e .
    # Byte-compile once, on every core: pip compiles one file at a time (19 s
    # of a 48 s install here, against 11 s this way), and a sandboxed kernel
    # cannot write the cache itself, since it sees the environment read-only.
    site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    if .venv/bin/python -m compileall -q -j 0 "$site"; then
        echo "$wanted" > "$stamp"
    else  # the next setup tries again
        echo "Some modules of the environment could not be byte-compiled (above): kernels compile them as they start." >&2
    fi
fi
.venv/bin/python -c "import sys; print('Course environment ready:', sys.prefix)"
