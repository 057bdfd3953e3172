#!/usr/bin/env python3
"""Benchmark enrolment on a real Moodle lab, side by side with Moodle's own bulk user uploader: N new
teachers per side (default 500) created with Moodle-generated passwords, enrolled as students in the same
course and put in the same class; several runs (default 4), the sides taking turns at going first.

- ours: the library's ``enrol_participants`` (what ``moodle-sync enrol`` runs) over the lab's REST web
  service with the tool user's token (``MOODLE_TOKEN``);
- uploader: ``admin/tool/uploaduser/cli/uploaduser.php`` run as the web server's user, a CSV with the same
  user fields plus ``course1``/``group1`` columns, "create password if needed and send via email".

Both are timed from the outside (wall time; the uploader's includes its PHP start-up). The uploader leaves
each password's hashing and mail to cron (the ``create_password`` user preference); ours has Moodle hash and
mail them inside ``core_user_create_users`` (web services cannot set that preference). So after each run
Moodle's ``send_new_user_passwords_task`` is run (timed apart, not part of the uploader's figure), and the
mails each teacher received are counted in the lab's mail folder: one per teacher on both sides.

The course and its class are provisioned once per invocation (plan + apply of the example offering's
first course, under a new offering id; untimed). Users are left on the lab (it is a throwaway site).

Refuses to run anywhere but on a lab made by ``scripts/moodle-lab.sh``: ``MOODLE_LAB_DIR`` must name its
state folder, whose Moodle ``config.php`` the lab wrote for ``MOODLE_URL``, on loopback.

Usage (as root, after ``eval "$(scripts/moodle-lab.sh up ...)"``):
  python scripts/bench_enrol_lab.py [--teachers 500] [--runs 4] [--write-concurrency 2] [--concurrency 4]
                                    [--sides ours,uploader] [--no-password-task] [--json]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import _bench as b

from moodle_sync.enrolment import enrol_participants, new_user_record

LAB_MARK = "moodle-lab: written by scripts/moodle-lab.sh"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
UPLOADER = "admin/tool/uploaduser/cli/uploaduser.php"
PASSWORD_TASK = "\\core\\task\\send_new_user_passwords_task"
# The user fields both sides send (ours: new_user_record; the uploader: CSV columns of the same names).
CSV_FIELDS = ("username", "email", "auth", "firstname", "lastname", "country", "timezone", "idnumber",
              "institution", "department", "city", "phone1")


@dataclass(frozen=True)
class Lab:
    """A lab site made by scripts/moodle-lab.sh: where it is and how to reach it."""

    directory: Path
    url: str
    token: str
    port: str
    maildir: Path | None


def lab_from_env(env: dict[str, str] | None = None) -> Lab:
    """The lab named by ``MOODLE_LAB_DIR`` and ``MOODLE_URL``/``MOODLE_TOKEN``; ``SystemExit`` with the
    reason for anything that is not plainly a lab of scripts/moodle-lab.sh on this machine."""
    env = dict(os.environ if env is None else env)
    directory, url, token = env.get("MOODLE_LAB_DIR"), env.get("MOODLE_URL", ""), env.get("MOODLE_TOKEN")
    if not directory:
        raise SystemExit("refusing to run: MOODLE_LAB_DIR is not set (this benchmark creates hundreds of users; "
                         "it runs only on a lab made by scripts/moodle-lab.sh)")
    if not url or not token:
        raise SystemExit("MOODLE_URL and MOODLE_TOKEN must be set (eval the exports of scripts/moodle-lab.sh up)")
    config = Path(directory) / "www" / "config.php"
    try:
        text = config.read_text("utf-8", "replace")
    except OSError as exc:
        raise SystemExit(f"refusing to run: {config} cannot be read ({exc.strerror}): not a lab "
                         "(run as root, as scripts/moodle-lab.sh does)") from None
    wwwroot = re.search(r"\$CFG->wwwroot\s*=\s*'([^']*)'", text)
    if LAB_MARK not in text or wwwroot is None:
        raise SystemExit(f"refusing to run: {config} was not written by scripts/moodle-lab.sh")
    if wwwroot.group(1).rstrip("/") != url.rstrip("/"):
        raise SystemExit(f"refusing to run: MOODLE_URL is not the lab in {directory} ({wwwroot.group(1)})")
    if urlsplit(url).hostname not in LOOPBACK:
        raise SystemExit(f"refusing to run: {url} is not on loopback")
    port = env.get("MOODLE_LAB_PORT") or str(urlsplit(url).port or 80)
    maildir = env.get("MOODLE_LAB_MAILDIR")
    return Lab(Path(directory), url.rstrip("/"), token, port, Path(maildir) if maildir else None)


def lab_command(lab: Lab, *args: str) -> list[str]:
    """The command line of ``scripts/moodle-lab.sh ARGS`` for this lab."""
    return ["bash", str(b.ROOT / "scripts" / "moodle-lab.sh"), *args]


def lab_env(lab: Lab) -> dict[str, str]:
    return {**os.environ, "MOODLE_LAB_DIR": str(lab.directory), "MOODLE_LAB_PORT": lab.port}


# --- the course, the class, the teachers --------------------------------------------------------------

def bench_offering(tag: str, folder: Path) -> Any:
    """The example offering under the id ``bench-TAG`` (its own category), cut to its first course."""
    import yaml

    from moodle_sync.offerings import load_offering
    from moodle_sync.templates import load_template, render_offering

    document = yaml.safe_load(b.EXAMPLE_OFFERING.read_text("utf-8"))
    document.update(id=f"bench-{tag}", category=f"Bench {tag} / Koding",
                    facilitators=str(b.EXAMPLE_OFFERING.parent / "facilitators.csv"))
    path = folder / "offering.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    offering = load_offering(path)
    spec = render_offering(offering, load_template(offering.template))
    return replace(spec, courses=spec.courses[:1])


def teachers(spec: Any, n: int, prefix: str) -> list[Any]:
    """``n`` new teachers, all for the offering's (only) course and its first class, with NUPTKs no one
    on the site has (so none is matched to an existing user)."""
    course = spec.courses[0]
    base = random.randrange(10**15, 9 * 10**15)
    return [replace(p, class_name=course.groups[0].name, nuptk=str(base + i))
            for i, p in enumerate(b.participants(spec, n, prefix=prefix))]


def uploader_csv(people: Sequence[Any], course_shortname: str) -> str:
    """The uploader's CSV: the fields ours sends for each teacher, no password, ``course1``/``group1``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_FIELDS, "course1", "group1"])
    for p in people:
        record = new_user_record(p, "manual")
        writer.writerow([*(record.get(f, "") for f in CSV_FIELDS), course_shortname, p.class_name])
    return out.getvalue()


# --- the two sides ------------------------------------------------------------------------------------

def run_ours(moodle: Any, spec: Any, people: Sequence[Any],
             workers: int | None = None) -> tuple[b.Measurement, dict[str, float]]:
    """``enrol_participants`` for ``people``, timed: its calls, and each function's seconds (summed over its
    calls: concurrent calls overlap, so they may add up to more than the wall time)."""
    before = moodle.client.stats.snapshot()
    cpu = time.process_time()
    with b.Timer() as t:
        result = enrol_participants(moodle, spec, people, new_user_workers=workers)
    stats = moodle.client.stats.since(before)
    client_cpu = time.process_time() - cpu
    n = len(people)
    if result.failed or (result.created, result.enrolled, result.grouped) != (n, n, n):
        raise SystemExit(f"ours went wrong: created/enrolled/grouped {(result.created, result.enrolled, result.grouped)}"
                         f" of {n}; failed: {result.failed[:3]}")
    m = b.Measurement("ours (moodle-sync enrol)", stats.total_calls, t.seconds,
                      {k: v.calls for k, v in stats.by_function.items()}, n)
    m.note = f"client CPU {1000 * client_cpu / n:.1f} ms/teacher"
    return m, {k: round(v.seconds, 3) for k, v in sorted(stats.by_function.items())}


def run_uploader(lab: Lab, people: Sequence[Any], course_shortname: str, folder: Path) -> b.Measurement:
    """Moodle's CLI uploader for ``people`` (one CSV, read by the web server's user), timed from outside."""
    path = folder / f"{people[0].email.split('@')[0]}.csv"
    path.write_text(uploader_csv(people, course_shortname), encoding="utf-8")
    path.chmod(0o600)
    shutil.chown(path, "www-data", "www-data")
    script = str(lab.directory / "www" / UPLOADER)
    command = lab_command(lab, "php", script, f"--file={path}", "--delimiter_name=comma", "--uutype=0",
                          "--uupasswordnew=1")
    with b.Timer() as t:
        done = subprocess.run(command, env=lab_env(lab), capture_output=True, text=True, timeout=3600,
                              check=False)
    path.unlink()
    created = re.search(r"Users created: (\d+)", done.stdout)
    errors = re.search(r"Errors: (\d+)", done.stdout)
    if done.returncode or not created or int(created.group(1)) != len(people) or not errors or int(errors.group(1)):
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise SystemExit(f"the uploader went wrong (exit {done.returncode}):\n{tail}")
    return b.Measurement("uploader (uploaduser.php)", 0, t.seconds, {}, len(people))


def run_password_task(lab: Lab) -> float:
    """Moodle's ``send_new_user_passwords_task`` once (what cron does for the uploader's users); seconds."""
    with b.Timer() as t:
        done = subprocess.run(lab_command(lab, "task", PASSWORD_TASK), env=lab_env(lab), capture_output=True,
                              text=True, timeout=3600, check=False)
    if done.returncode:
        raise SystemExit(f"{PASSWORD_TASK} failed: {done.stderr[-500:]}")
    return t.seconds


def cpu_busy_seconds() -> float:
    """CPU seconds this machine has spent busy (all processes, all cores) since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --- checking what landed -----------------------------------------------------------------------------

def check_landed(moodle: Any, course_id: int, group_id: int, people: Sequence[Any]) -> None:
    """Every teacher of ``people`` is enrolled in the course and a member of the class; else SystemExit."""
    enrolled = {u.username: u for u in moodle.enrolled_users(course_id, fields="id,username,groups")}
    wrong = [p.email for p in people
             if new_user_record(p, "manual")["username"] not in enrolled
             or group_id not in enrolled[new_user_record(p, "manual")["username"]].groups]
    if wrong:
        raise SystemExit(f"{len(wrong)} teacher(s) not enrolled in the class, e.g. {wrong[:3]}")


def mails_by_recipient(maildir: Path | None) -> Counter[str]:
    """How many mails the lab's mail catcher holds per envelope recipient (lower case)."""
    counts: Counter[str] = Counter()
    if maildir is None or not maildir.is_dir():
        return counts
    for path in maildir.glob("*.eml"):
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if not line.strip():
                    break
                if line.lower().startswith("x-lab-rcpt-to:"):
                    counts[line.split(":", 1)[1].strip().lower()] += 1
    return counts


def mails_per_teacher(maildir: Path | None, people: Sequence[Any]) -> dict[str, int] | None:
    """``{"min": .., "max": ..}`` mails received per teacher of ``people`` (None without a mail folder)."""
    if maildir is None:
        return None
    counts = mails_by_recipient(maildir)
    got = [counts[p.email.lower()] for p in people]
    return {"min": min(got), "max": max(got)}


# --- the whole benchmark ------------------------------------------------------------------------------

def setup(lab: Lab, args: argparse.Namespace, folder: Path) -> tuple[Any, Any, int, int]:
    """Connect, provision the course and its class (untimed); the client, the spec, course and group ids."""
    from moodle_sync.ws import connect

    moodle = connect(lab.url, lab.token, max_input_vars=args.max_input_vars, concurrency=args.concurrency,
                     write_concurrency=args.write_concurrency, timeout=600, retries=2)
    spec = bench_offering(uuid.uuid4().hex[:6], folder)
    b.provision(moodle, spec)
    course = spec.courses[0]
    course_id = moodle.courses_by_field("idnumber", course.idnumber)[0].id
    group = next(g for g in moodle.groups(course_id) if g.name == course.groups[0].name)
    return moodle, spec, course_id, group.id


def one_run(lab: Lab, args: argparse.Namespace, run: int, ctx: tuple[Any, Any, int, int],
            folder: Path) -> dict[str, Any]:
    """One run: each side on its own N fresh teachers, in turns; then the password task and the mails."""
    moodle, spec, course_id, group_id = ctx
    tag = uuid.uuid4().hex[:5]
    sides = args.sides if run % 2 == 0 else list(reversed(args.sides))
    out: dict[str, Any] = {"run": run + 1, "order": sides}
    people = {s: teachers(spec, args.teachers, f"b{tag}{s[0]}") for s in sides}
    for side in sides:
        busy = cpu_busy_seconds()
        if side == "ours":
            out["ours"], out["ours_seconds_by_function"] = run_ours(moodle, spec, people[side], args.new_user_workers)
        else:
            out["uploader"] = run_uploader(lab, people[side], spec.courses[0].shortname, folder)
        out[f"{side}_cpu_ms_per_teacher"] = 1000 * (cpu_busy_seconds() - busy) / args.teachers
        check_landed(moodle, course_id, group_id, people[side])
        print(f"run {run + 1}: {side} {out[side].ms_per_unit:.1f} ms/teacher, "
              f"{out[f'{side}_cpu_ms_per_teacher']:.1f} CPU ms/teacher", file=sys.stderr)
    if "uploader" in sides and args.password_task:
        busy = cpu_busy_seconds()
        out["password_task_seconds"] = run_password_task(lab)
        out["password_task_cpu_ms_per_teacher"] = 1000 * (cpu_busy_seconds() - busy) / args.teachers
    out["mails"] = {s: mails_per_teacher(lab.maildir, people[s]) for s in sides}
    if "ours" in out and "uploader" in out:
        out["ratio"] = out["ours"].seconds / out["uploader"].seconds
    return out


def summary_rows(runs: Sequence[dict[str, Any]], n: int) -> list[list[Any]]:
    rows = []
    for r in runs:
        ours, up = r.get("ours"), r.get("uploader")
        task = r.get("password_task_seconds")
        rows.append([r["run"], " then ".join(r["order"]), ours.ms_per_unit if ours else None,
                     up.ms_per_unit if up else None, r.get("ratio"),
                     1000 * task / n if task is not None else None, ours.calls if ours else None,
                     r.get("ours_cpu_ms_per_teacher"), r.get("uploader_cpu_ms_per_teacher")])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--teachers", type=int, default=500, help="new teachers per side and run (default 500)")
    p.add_argument("--runs", type=int, default=4, help="runs (default 4); the sides take turns going first")
    p.add_argument("--sides", default="ours,uploader", help="ours,uploader (default), or one of them")
    p.add_argument("--write-concurrency", type=int, default=2, help="write batches side by side (default 2)")
    p.add_argument("--concurrency", type=int, default=4, help="concurrent reads (default 4)")
    p.add_argument("--new-user-workers", type=int, default=None,
                   help="chunks of new users side by side (default: concurrency + write concurrency)")
    p.add_argument("--max-input-vars", type=int, default=5000, help="the lab's max_input_vars (5000)")
    p.add_argument("--no-password-task", dest="password_task", action="store_false",
                   help="do not run Moodle's password task after the uploader (its mails then wait for cron)")
    p.add_argument("--json", action="store_true", help="print the results as JSON instead of tables")
    args = p.parse_args(argv)
    args.sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    if not args.sides or set(args.sides) - {"ours", "uploader"} or args.teachers < 1 or args.runs < 1:
        raise SystemExit("--sides takes ours and/or uploader; --teachers and --runs at least 1")
    lab = lab_from_env()
    if os.geteuid() != 0 and "uploader" in args.sides:
        raise SystemExit("run as root: the uploader runs as the lab's web server user (scripts/moodle-lab.sh php)")
    report = b.Report("bench_enrol_lab", {"teachers": args.teachers, "runs": args.runs, "sides": args.sides,
                                          "write_concurrency": args.write_concurrency,
                                          "concurrency": args.concurrency, "cpus": os.cpu_count()})
    with tempfile.TemporaryDirectory(prefix="bench-enrol-lab-") as tmp:
        folder = Path(tmp)
        if "uploader" in args.sides:
            shutil.chown(folder, "www-data", "www-data")
        folder.chmod(0o700)
        ctx = setup(lab, args, folder)
        runs = [one_run(lab, args, i, ctx, folder) for i in range(args.runs)]
    report.table(b.format_table(
        f"{args.teachers} new teachers per side and run: create (generated password) + enrol + class",
        ["run", "order", "ours ms/teacher", "uploader ms/teacher", "ours/uploader",
         "password task ms/teacher", "our calls", "ours CPU ms/teacher", "uploader CPU ms/teacher"],
        summary_rows(runs, args.teachers)))
    report.note("CPU ms/teacher: the whole machine's busy CPU time while a side ran (other work on the "
                "machine counts too)")
    ours = [r["ours"] for r in runs if "ours" in r]
    if ours:
        report.table(b.functions_table("moodle-sync calls per function", ours))
        report.note("moodle-sync seconds per function (summed over calls; concurrent calls overlap):\n" + "\n".join(
            f"  run {r['run']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["ours_seconds_by_function"].items())
            for r in runs if "ours" in r))
    ratios = [r["ratio"] for r in runs if "ratio" in r]
    if ratios:
        report.note(f"ours/uploader: median {statistics.median(ratios):.2f}, range {min(ratios):.2f}-{max(ratios):.2f} "
                    f"over {len(ratios)} runs")
    report.note("mails per teacher (min-max): " + "; ".join(
        f"run {r['run']} " + ", ".join(f"{s} {m['min']}-{m['max']}" for s, m in r["mails"].items() if m)
        for r in runs))
    report.put("runs", runs)
    report.put("ratio_median", statistics.median(ratios) if ratios else None)
    report.emit(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
