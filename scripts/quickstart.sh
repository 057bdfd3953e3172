#!/usr/bin/env bash
# The main job end to end, against the built-in sandbox Moodle (nothing else needed):
# doctor -> plan/apply an offering (15 courses) -> check and select registrations -> enrol ->
# simulated progress -> pull -> HTML report. Output goes to out/quickstart/ (QUICKSTART_DIR to change).
set -euo pipefail
umask 077   # what it writes holds teachers' names, e-mails and phones: for this user's eyes only
cd "$(dirname "$0")/.."
. scripts/_venv.sh
ensure_venv

work="${QUICKSTART_DIR:-out/quickstart}"
offering=examples/offering-koding.yaml
registrations=examples/registrations.csv
rm -rf "$work" && mkdir -p "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Starting the sandbox Moodle (a faithful fake of Moodle 4.5 web services, on loopback)"
moodle-sync sandbox --ready-file "$work/sandbox.json" >"$work/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$work/sandbox.json" ] && break; sleep 0.2; done
[ -s "$work/sandbox.json" ] || { cat "$work/sandbox.log"; echo "the sandbox did not start" >&2; exit 1; }
MOODLE_URL=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$work/sandbox.json")
MOODLE_TOKEN=$(python -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$work/sandbox.json")
export MOODLE_URL MOODLE_TOKEN
export MOODLE_SYNC_STORE="$work/moodle-sync.sqlite" MOODLE_SYNC_MAX_INPUT_VARS=5000
echo "sandbox at $MOODLE_URL"

step "moodle-sync doctor"
moodle-sync doctor

step "moodle-sync plan $offering   (exit 2: changes pending)"
moodle-sync plan "$offering" >"$work/plan-before.txt" || [ $? -eq 2 ]
tail -n 3 "$work/plan-before.txt"

step "moodle-sync apply $offering --yes"
moodle-sync apply "$offering" --yes --stats >"$work/apply.txt"
grep -E "^Applied|Web-service calls" "$work/apply.txt"

step "moodle-sync plan $offering   (again: nothing to change)"
moodle-sync plan "$offering"

step "moodle-sync participants check $registrations"
moodle-sync participants check "$registrations" --rejects "$work/registrations.rejects.csv" | tail -n 4 || true

step "moodle-sync select $offering --applicants $registrations"
moodle-sync select "$offering" --applicants "$registrations" --output "$work/seleksi" --no-moodle-history

step "moodle-sync enrol $offering --yes"
moodle-sync enrol "$offering" --yes --stats

step "Simulating participants' progress in the sandbox (visits, tests, activities, cron)"
python scripts/simulate_progress.py koding-2026-a1

step "moodle-sync pull   (then again: incremental, nothing changed)"
moodle-sync pull
moodle-sync pull

step "moodle-sync report koding-2026-a1"
moodle-sync report koding-2026-a1 --format html --lang id --output "$work/laporan.html"
moodle-sync report koding-2026-a1 --format xlsx --output "$work/laporan.xlsx"
moodle-sync report koding-2026-a1 --format table >"$work/laporan.txt"
head -n 25 "$work/laporan.txt"

step "Done"
echo "Report: $work/laporan.html (open it in a browser; it works offline and prints well)"
echo "Selection lists: $work/seleksi/   Store: $MOODLE_SYNC_STORE"
