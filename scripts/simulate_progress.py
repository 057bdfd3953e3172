#!/usr/bin/env python3
"""Simulate participants' progress in a TEST Moodle (the sandbox, or the lab of scripts/moodle-lab.sh; never
a real site): course visits, pre-tests, activities, post-tests, then Moodle's completion cron.

Usage: MOODLE_URL=... MOODLE_TOKEN=... python scripts/simulate_progress.py OFFERING_ID [--seed N] [--days-ago N] [--lab]

The plan (who visits, which activities, how many of the ten quiz questions right) is computed once from
what the web services show and the seed, so the same scenario gives the same numbers on both targets:
the sandbox plays it through its test controls (``/_sandbox/<action>``); with ``--lab`` the lab plays it
for real (quiz attempts, page views, assignment submissions, course access, then Moodle's completion task)
through ``scripts/moodle-lab.sh php scripts/lab/progress.php`` (root, on the lab's machine).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from moodle_sync.ws import connect

HERE = Path(__file__).resolve().parent
ACTIVITIES = ["panduan", *[f"materi-{n}" for n in range(1, 9)], *[f"tugas-{n}" for n in range(1, 9)], "refleksi"]
DAY = 86_400


def plan_progress(courses: Iterable[tuple[int, list[int]]], *, seed: int, now: int,
                  days_ago: int) -> list[dict[str, Any]]:
    """The events of a deterministic progress, for ``(course id, student ids)`` in the order given. Pure.

    ``activity`` events name an activity idnumber of ACTIVITIES; a course without it skips the event (the
    players do, the same way on both targets)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    for courseid, students in courses:
        for userid in students:
            engagement = rng.random()
            if engagement < 0.18:
                continue  # never started
            when = now - rng.randint(1, days_ago) * DAY
            base = {"courseid": courseid, "userid": userid}
            events.append({**base, "type": "access", "time": when})
            pre = rng.randint(2, 7)
            events.append({**base, "type": "quiz", "idnumber": "pretest", "correct": pre, "time": when})
            done = ACTIVITIES if engagement > 0.45 else ACTIVITIES[: rng.randint(1, 8)]
            events += [{**base, "type": "activity", "idnumber": a, "time": when} for a in done]
            if done is ACTIVITIES:
                post = min(10, pre + rng.randint(1, 4))
                later = min(now, when + rng.randint(3, 20) * DAY)
                events.append({**base, "type": "quiz", "idnumber": "posttest", "correct": post, "time": later})
                events.append({**base, "type": "access", "time": later})
    return events


def read_courses(moodle: Any, offering_id: str) -> list[tuple[int, list[int]]]:
    """The offering's courses (by idnumber) and their students (by e-mail), as the web services show them."""
    courses = [c for c in moodle.courses_by_field("", "") if c.idnumber.startswith(offering_id + "-")]
    def students(courseid: int) -> list[int]:
        # by e-mail, not id: ids depend on the order users happened to be created in (side by side, or in
        # an earlier run), and the same person must get the same progress on every site
        people = [u for u in moodle.enrolled_users(courseid) if "student" in u.roles]
        return [u.id for u in sorted(people, key=lambda u: (u.email.lower(), u.id))]

    return [(c.id, students(c.id)) for c in sorted(courses, key=lambda c: c.idnumber)]


def play_in_sandbox(url: str, events: list[dict[str, Any]]) -> None:
    """Play the events through the sandbox's test controls, then its completion cron."""
    session = requests.Session()

    def control(action: str, **arguments: object) -> None:
        r = session.post(f"{url}/_sandbox/{action}", json=arguments, timeout=30)
        if r.status_code == 404:
            sys.exit(f"{url} has no sandbox controls: use --lab for the lab of scripts/moodle-lab.sh")
        if r.status_code == 400 and "has no activity with idnumber" in r.text:
            return  # this master has fewer topics: skipped, as the lab skips it
        r.raise_for_status()

    for e in events:
        where = {"courseid": e["courseid"], "userid": e["userid"], "time": e["time"]}
        if e["type"] == "access":
            control("record_access", **where)
        elif e["type"] == "quiz":
            control("set_grade", **where, item_idnumber=e["idnumber"], grade=float(e["correct"]))
        else:
            control("complete_activity", **where, cm_idnumber=e["idnumber"])
    control("run_cron")


def play_in_lab(events: list[dict[str, Any]]) -> None:
    """Play the events for real on the lab site (as its web server user), then Moodle's completion task."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"events": events}, f)  # ids only: no personal data
    try:
        os.chmod(f.name, 0o644)  # the lab's PHP runs as www-data
        done = subprocess.run(["bash", str(HERE / "moodle-lab.sh"), "php", str(HERE / "lab" / "progress.php"),
                               f"--plan={f.name}"], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"the lab could not play the progress:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    finally:
        os.unlink(f.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("offering_id")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days-ago", type=int, default=30, help="spread the activity over this many days")
    parser.add_argument("--lab", action="store_true", help="the target is the lab of scripts/moodle-lab.sh")
    args = parser.parse_args()
    moodle = connect(os.environ["MOODLE_URL"], os.environ["MOODLE_TOKEN"], concurrency=8)
    courses = read_courses(moodle, args.offering_id)
    events = plan_progress(courses, seed=args.seed, now=int(time.time()), days_ago=args.days_ago)
    if args.lab:
        play_in_lab(events)
    else:
        play_in_sandbox(os.environ["MOODLE_URL"], events)
    started = {(e["courseid"], e["userid"]) for e in events}
    finished = {(e["courseid"], e["userid"]) for e in events if e.get("idnumber") == "posttest"}
    print(f"Simulated {sum(len(s) for _, s in courses)} participants in {len(courses)} courses: "
          f"{len(started)} started, {len(finished)} finished every activity.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
