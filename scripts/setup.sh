#!/usr/bin/env bash
# Create the course's virtual environment in .venv and install the pinned
# packages. Safe to run again: it reinstalls only when the pins change.
# Needs Python 3.11 (set PYTHON to choose the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian/Ubuntu packages the course needs beyond Python, installed with apt
# when missing (as root, or through sudo).
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get install -y -qq "$@" >/dev/null 2>&1 \
        || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$@" >/dev/null; }
}

# The grading sandbox needs bubblewrap; prlimit and setpriv come with util-linux.
if ! command -v bwrap >/dev/null; then
    echo "Installing bubblewrap for the grading sandbox..."
    apt_install bubblewrap
fi

# The tests run the grading flow against a real PostgreSQL server too.
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "Installing PostgreSQL for the gradebook tests..."
    apt_install postgresql
fi

# The Chinese edition's figures need a font with Chinese characters
# (matplotlib's own font has none).
if ! fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" \
        && ! ls /usr/share/fonts/truetype/wqy/wqy-microhei.ttc >/dev/null 2>&1; then
    echo "Installing a Chinese font for the Chinese edition's figures..."
    apt_install fonts-wqy-microhei
fi

# The browser tests drive Debian's chromium with Playwright (Playwright's own
# browser download does not work behind a closed network); CHROMIUM names
# another build. Without it, only the browser tests fail, and they say why.
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "Installing chromium for the browser tests..."
    apt_install chromium || echo "Could not install chromium: the browser tests will fail (set CHROMIUM)." >&2
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi

stamp=.venv/.installed-requirements
wanted=$(cat requirements.txt requirements/*.txt constraints.txt pyproject.toml | sha256sum)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
    # The grading sandbox's kernel provisioner, registered with jupyter_client
    # through the entry point in pyproject.toml (the code stays in grading/).
    .venv/bin/python -m pip install --quiet --no-deps -e .
    echo "$wanted" > "$stamp"
fi
.venv/bin/python -c "import sys; print('Course environment ready:', sys.prefix)"
