#!/usr/bin/env bash
# Install moodle_sync with its test extras (in a virtualenv unless one is active) and run the whole suite.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VIRTUAL_ENV:-}" ]; then
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    # shellcheck disable=SC1091
    . .venv/bin/activate
fi
python -m pip install --quiet --upgrade pip >/dev/null
python -m pip install --quiet -e '.[test]'
exec python -m pytest "$@"
