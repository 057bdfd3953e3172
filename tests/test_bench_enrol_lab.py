"""scripts/bench_enrol_lab.py runs only on a lab made by scripts/moodle-lab.sh (it creates hundreds of users),
and the uploader's CSV carries the same user fields as our records. The benchmark itself needs a real lab
and root; it is run by hand (README "Speed")."""

from __future__ import annotations

import csv
import importlib
import io
import sys
from pathlib import Path
from typing import Any

import pytest

from moodle_sync.enrolment import new_user_record
from moodle_sync.store.records import ParticipantRecord

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def bench() -> Any:
    if str(SCRIPTS) not in sys.path:
        sys.path.insert(0, str(SCRIPTS))
    return importlib.import_module("bench_enrol_lab")


def lab_dir(tmp_path: Path, url: str = "http://127.0.0.1:8680", mark: bool = True) -> Path:
    (tmp_path / "www").mkdir()
    head = "<?php  // moodle-lab: written by scripts/moodle-lab.sh\n" if mark else "<?php\n"
    (tmp_path / "www" / "config.php").write_text(f"{head}$CFG->wwwroot   = '{url}';\n")
    return tmp_path


def env(directory: Path | None, url: str = "http://127.0.0.1:8680") -> dict[str, str]:
    out = {"MOODLE_URL": url, "MOODLE_TOKEN": "t0ken"}
    return {**out, "MOODLE_LAB_DIR": str(directory)} if directory else out


def test_a_lab_is_accepted(tmp_path: Path) -> None:
    lab = bench().lab_from_env(env(lab_dir(tmp_path)))
    assert (lab.url, lab.port, lab.maildir) == ("http://127.0.0.1:8680", "8680", None)


@pytest.mark.parametrize("case, reason", [
    ("no lab dir", "MOODLE_LAB_DIR is not set"),
    ("no config", "cannot be read"),
    ("not the lab's config", "was not written by scripts/moodle-lab.sh"),
    ("another site", "is not the lab in"),
    ("not loopback", "is not on loopback"),
])
def test_anything_else_is_refused(tmp_path: Path, case: str, reason: str) -> None:
    if case == "no lab dir":
        settings = env(None)
    elif case == "no config":
        settings = env(tmp_path)
    elif case == "not the lab's config":
        settings = env(lab_dir(tmp_path, mark=False))
    elif case == "another site":
        settings = env(lab_dir(tmp_path), url="http://127.0.0.1:8480")
    else:
        settings = env(lab_dir(tmp_path, url="https://lms.example.org"), url="https://lms.example.org")
    with pytest.raises(SystemExit, match=reason):
        bench().lab_from_env(settings)


def test_the_uploader_gets_our_fields_and_the_class() -> None:
    p = ParticipantRecord(email="Guru.Satu@guru.belajar.id", fullname="Guru Satu", firstname="Guru", lastname="Satu",
                          nuptk="1234567890123456", school="SD Negeri 1", school_level="SD", phone="0812",
                          regency="metro", course_key="metro", class_name="Kelas Metro A")
    rows = list(csv.DictReader(io.StringIO(bench().uploader_csv([p], "KODING-METRO"))))
    record = new_user_record(p, "manual")
    assert rows == [{**{k: str(record.get(k, "")) for k in bench().CSV_FIELDS},
                     "course1": "KODING-METRO", "group1": "Kelas Metro A"}]
    assert "password" not in rows[0] and "createpassword" not in rows[0]
