#!/usr/bin/env bash
# Install moodle_sync with its test extras (in .venv unless a virtualenv is active) and run the whole suite.
# Usage: scripts/test.sh [pytest args...]
# Contract tests also run against a real Moodle 4.5 when MOODLE_URL and MOODLE_TOKEN are set.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv test
exec python -m pytest "$@"
