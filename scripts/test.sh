#!/usr/bin/env bash
# Install moodle_sync with its test extras (in .venv unless a virtualenv is active) and run the whole suite.
# Usage: scripts/test.sh [pytest args...]
# Lint (ruff, config in pyproject.toml) and types (mypy, config in setup.cfg) come first: the suite runs only
# on code they pass. Both versions are pinned in setup.cfg's test extra, so CI and a laptop agree.
# Contract tests also run against a real Moodle 4.5 when MOODLE_URL and MOODLE_TOKEN are set.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv test
python -m ruff check moodle_sync tests scripts --quiet
python -m mypy --no-error-summary
echo "ruff and mypy: clean"
exec python -m pytest "$@"
