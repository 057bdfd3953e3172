#!/usr/bin/env python3
"""Simulate participants' progress in the SANDBOX Moodle (never a real site): course visits, pre-tests,
activities, post-tests, a teacher's grading, then Moodle's completion cron.

Usage: MOODLE_URL=... MOODLE_TOKEN=... python scripts/simulate_progress.py OFFERING_ID [--seed N] [--days-ago N]

It drives the sandbox's test controls (``/_sandbox/<action>``), which a real Moodle does not have.
Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time

import requests

from moodle_sync.ws import connect

ACTIVITIES = ["panduan", *[f"materi-{n}" for n in range(1, 9)], *[f"tugas-{n}" for n in range(1, 9)], "refleksi"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("offering_id")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--days-ago", type=int, default=30, help="spread the activity over this many days")
    args = parser.parse_args()
    url, token = os.environ["MOODLE_URL"], os.environ["MOODLE_TOKEN"]
    session = requests.Session()

    def control(action: str, **arguments: object) -> bool:
        r = session.post(f"{url}/_sandbox/{action}", json=arguments, timeout=30)
        if r.status_code == 404:
            sys.exit(f"{url} has no sandbox controls: simulate_progress only drives the sandbox")
        return r.ok

    moodle = connect(url, token, concurrency=8)
    rng = random.Random(args.seed)
    now = int(time.time())
    courses = [c for c in moodle.courses_by_field("", "") if c.idnumber.startswith(args.offering_id + "-")]
    totals = {"participants": 0, "visited": 0, "completed_all": 0}
    for course in sorted(courses, key=lambda c: c.idnumber):
        students = [u for u in moodle.enrolled_users(course.id) if "student" in u.roles]
        for u in students:
            totals["participants"] += 1
            engagement = rng.random()
            if engagement < 0.18:
                continue  # never started
            when = now - rng.randint(1, args.days_ago) * 86400
            control("record_access", courseid=course.id, userid=u.id, time=when)
            totals["visited"] += 1
            pre = round(rng.uniform(2.0, 7.5), 1)
            control("set_grade", courseid=course.id, userid=u.id, item_idnumber="pretest", grade=pre, time=when)
            done = ACTIVITIES if engagement > 0.45 else ACTIVITIES[: rng.randint(1, 8)]
            for idnumber in done:
                control("complete_activity", courseid=course.id, userid=u.id, cm_idnumber=idnumber, time=when)
            if done is ACTIVITIES:
                post = round(min(10.0, pre + rng.uniform(0.5, 4.0)), 1)
                later = min(now, when + rng.randint(3, 20) * 86400)
                control("set_grade", courseid=course.id, userid=u.id, item_idnumber="posttest", grade=post, time=later)
                control("record_access", courseid=course.id, userid=u.id, time=later)
                totals["completed_all"] += 1
    control("run_cron")
    print(f"Simulated {totals['participants']} participants in {len(courses)} courses: "
          f"{totals['visited']} started, {totals['completed_all']} finished every activity.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
