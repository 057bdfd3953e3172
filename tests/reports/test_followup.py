"""Follow-up packs: statuses, the class's facilitator, WhatsApp links and the facilitator's message."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import unquote

from moodle_sync.offerings import PassRule
from moodle_sync.provision.spec import CourseSpec, EvidenceSpec, FacilitatorSpec, GroupSpec, OfferingSpec
from moodle_sync.reports.followup import (
    MESSAGE_MAX_BYTES,
    ClassPack,
    Facilitator,
    FollowupPack,
    FollowupPerson,
    build_followup,
    facilitator_message,
    pack_document,
    whatsapp_link,
)
from moodle_sync.reports.followup_files import write_packs
from moodle_sync.store import ParticipantRecord

from .conftest import DAY, NOW, T0, snap


def _course(key: str, end: int = 0) -> CourseSpec:
    return CourseSpec(key=key, fullname=f"Koding {key}", shortname=key, idnumber=f"o-{key}", category_path=("X",),
                      end_date=end, groups=(GroupSpec("Kelas A", f"o-{key}-a"), GroupSpec("Kelas B", f"o-{key}-b")),
                      facilitators=(FacilitatorSpec("Rina@x.id", "Rina", "Kusuma", (f"o-{key}-a",)),
                                    FacilitatorSpec("budi@x.id", "Budi", "-", (f"o-{key}-b",))),
                      evidence=EvidenceSpec("pretest", "posttest"))


SPEC = OfferingSpec("o", "Koding 2026", "koding", "A1", (_course("ls"), _course("metro", end=NOW - DAY)))
PEOPLE = [ParticipantRecord(email="c@x.id", fullname="Dra. Citra, M.Pd.", phone="0812-3456-7890",
                            school="SD Negeri 1", status="enrolled"),
          ParticipantRecord(email="h@x.id", fullname="H", phone="+62 813 1111 2222", status="enrolled")]


def _pack():  # type: ignore[no-untyped-def]
    snapshots = [
        snap(1, "a", class_name="Kelas A", completed=True, last_access=NOW, activities_done=5, pretest_grade=4.0,
             pretest_max=10.0, posttest_grade=9.0, posttest_max=10.0),                   # passed: not listed
        snap(2, "b", class_name="Kelas A", completed=True, last_access=NOW, activities_done=5, pretest_grade=4.0,
             pretest_max=10.0, posttest_grade=6.99, posttest_max=10.0),                  # below 70
        snap(3, "c", class_name="Kelas B", last_access=NOW - 20 * DAY, activities_done=2, pretest_grade=3.0,
             pretest_max=10.0),                                                           # stalled
        snap(4, "d", class_name="Kelas B"),                                               # not started
        snap(5, "e", class_name="Kelas B", last_access=NOW, activities_done=1),           # no pre-test
        snap(6, "f", class_name="Kelas B", last_access=NOW, activities_done=4, pretest_grade=3.0,
             pretest_max=10.0),                                                           # all but the post-test
        snap(7, "g", class_name="Kelas A", last_access=NOW, activities_done=2, pretest_grade=3.0,
             pretest_max=10.0),                                                           # mid-course: fine
        snap(8, "h", "metro", class_name="Kelas A", last_access=NOW, activities_done=2, pretest_grade=3.0,
             pretest_max=10.0),                                                           # course ended
        snap(9, "i", class_name="Kelas B", enrol_status="suspended"),                     # withdrawn
    ]
    return build_followup(SPEC, snapshots, PEOPLE, rule=PassRule(70.0), now=NOW, stalled_days=14)


def test_each_participant_gets_the_first_status_that_applies_under_their_class_facilitator() -> None:
    doc = pack_document(_pack())
    got = {(c["course"], c["class_name"], c["facilitator"]): [(p["email"], p["status"]) for p in c["participants"]]
           for c in doc["classes"]}
    assert got == {
        ("ls", "Kelas A", "rina@x.id"): [("b@x.id", "below_pass")],
        ("ls", "Kelas B", "budi@x.id"): [("d@x.id", "not_started"), ("c@x.id", "stalled"), ("e@x.id", "no_pretest"),
                                         ("f@x.id", "no_posttest")],
        ("metro", "Kelas A", "rina@x.id"): [("h@x.id", "no_posttest")],
    }


def test_whatsapp_links_use_the_normalised_number_and_a_prefilled_indonesian_message() -> None:
    people = {p.email: p for c in _pack().classes for p in c.people}
    link = people["c@x.id"].whatsapp
    assert link is not None and link.startswith("https://wa.me/6281234567890?text=")
    text = unquote(link.split("text=")[1])
    assert text.startswith("Yth. Bapak/Ibu Dra. Citra, M.Pd., salam dari fasilitator Koding 2026.")
    assert "belum membuka Koding ls" in text
    assert people["h@x.id"].whatsapp.startswith("https://wa.me/6281311112222?")
    assert people["d@x.id"].whatsapp is None
    assert whatsapp_link("12", "x") is None


def test_the_facilitators_message_lists_their_classes_and_fits_moodles_limit() -> None:
    pack = _pack()
    rina = Facilitator("rina@x.id", "Rina Kusuma")
    text = facilitator_message(pack, rina, pack.by_facilitator()[rina])
    assert text.startswith("Yth. Rina Kusuma,")
    assert "Kelas A — Koding ls (1 peserta):" in text and "Kelas A — Koding metro (1 peserta):" in text
    assert "- B: post-test di bawah nilai lulus" in text
    assert "Budi" not in text and "d@x.id" not in text
    many = build_followup(SPEC, [snap(i, f"p{i:03d}", class_name="Kelas A") for i in range(300)], [],
                          rule=PassRule(), now=NOW)
    long = facilitator_message(many, rina, many.by_facilitator()[rina])
    assert len(long.encode("utf-8")) <= MESSAGE_MAX_BYTES and long.endswith("lihat berkas lengkap dari panitia)")


def test_packs_are_written_per_facilitator_private_and_formula_safe(tmp_path: Path) -> None:
    people = [*PEOPLE, ParticipantRecord(email="d@x.id", fullname="=HYPERLINK(\"x\")", status="enrolled")]
    pack = build_followup(SPEC, [snap(4, "d", class_name="Kelas B")], people, rule=PassRule(), now=NOW)
    written = write_packs(pack, tmp_path / "out")
    assert sorted(p.name for p in written) == ["budi-x.id.html", "budi-x.id.xlsx"]
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in written)
    assert stat.S_IMODE(os.stat(tmp_path / "out").st_mode) == 0o700
    from openpyxl import load_workbook

    cell = load_workbook(tmp_path / "out" / "budi-x.id.xlsx").active["A2"]
    assert cell.value == "'=HYPERLINK(\"x\")" and cell.data_type == "s"
    assert "=HYPERLINK(&quot;x&quot;)" in (tmp_path / "out" / "budi-x.id.html").read_text("utf-8")
    assert T0 < NOW


def test_names_cannot_turn_into_html_in_the_moodle_message() -> None:
    people = [ParticipantRecord(email="d@x.id", fullname="Ani <b>Bu</b> & Co", status="enrolled")]
    pack = build_followup(SPEC, [snap(4, "d", class_name="Kelas B")], people, rule=PassRule(), now=NOW)
    budi = Facilitator("budi@x.id", "Budi")
    assert "- Ani &lt;b&gt;Bu&lt;/b&gt; &amp; Co: belum mulai" in facilitator_message(pack, budi, list(pack.classes))


def test_a_missing_pretest_is_followed_up_only_before_the_posttest_and_completion() -> None:
    snapshots = [
        snap(10, "j", class_name="Kelas B", last_access=NOW, activities_done=5, completed=True,
             time_completed=NOW - DAY, posttest_grade=90.0, posttest_max=100.0),      # passed: nothing to do
        snap(11, "k", class_name="Kelas B", last_access=NOW, activities_done=4, posttest_grade=40.0,
             posttest_max=100.0),                                                      # the post-test is what counts
        snap(12, "l", class_name="Kelas B", last_access=NOW, activities_done=1),       # still ahead of the pre-test
    ]
    pack = build_followup(SPEC, snapshots, PEOPLE, rule=PassRule(70.0), now=NOW)
    assert [(p.email, p.status) for c in pack.classes for p in c.people] == [("l@x.id", "no_pretest"),
                                                                              ("k@x.id", "below_pass")]


def test_facilitators_whose_emails_make_the_same_file_name_get_a_file_each(tmp_path: Path) -> None:
    plus, dash = Facilitator("a+b@x.id", "Plus"), Facilitator("a-b@x.id", "Dash")
    person = FollowupPerson("p@x.id", "P", None, None, None, None, "not_started", "-")
    classes = tuple(ClassPack("ls", "Koding ls", name, (f,), (person,)) for name, f in (("A", plus), ("B", dash)))
    pack = FollowupPack("o", "Koding 2026", NOW, 14, classes)
    written = write_packs(pack, tmp_path / "out")
    assert sorted(p.name for p in written) == ["a-b-x.id-2.html", "a-b-x.id-2.xlsx", "a-b-x.id.html", "a-b-x.id.xlsx"]
    pages = [(tmp_path / "out" / f"{stem}.html").read_text("utf-8") for stem in ("a-b-x.id", "a-b-x.id-2")]
    assert "Untuk: Plus" in pages[0] and "Untuk: Dash" in pages[1]


def test_an_adopted_course_without_test_items_chases_no_test() -> None:
    started = {"class_name": None, "last_access": NOW, "activities_done": 2}
    snapshots = [snap(20, "m", "old", **started),                                      # no pre/post items at all
                 snap(21, "n", "old2", pretest_max=10.0, **started),                   # a pre-test item, no grade
                 snap(22, "q", "old2", pretest_max=10.0, pretest_grade=5.0, posttest_max=10.0, completed=True,
                      **started)]                                                       # a post-test item, no grade
    pack = build_followup(SPEC, snapshots, PEOPLE, rule=PassRule(70.0), now=NOW)
    assert [(p.email, p.status) for c in pack.classes for p in c.people] == [("n@x.id", "no_pretest"),
                                                                              ("q@x.id", "no_posttest")]


def test_whatsapp_links_for_mobile_numbers_in_every_form_and_none_for_landlines_or_nothing() -> None:
    mobile = ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812-3456-7890", "(0812) 3456 7890"]
    assert {whatsapp_link(p, "x") for p in mobile} == {"https://wa.me/6281234567890?text=x"}
    assert [whatsapp_link(p, "x") for p in ("021-5551234", "(0721) 123456", "", "  ", None, "08123")] == [None] * 6


def test_an_adopted_course_is_named_and_ended_as_the_store_keeps_it() -> None:
    late = snap(30, "r", "old", class_name=None, last_access=NOW, activities_done=2, pretest_max=10.0,
                pretest_grade=4.0, posttest_max=10.0)                               # course over, no post-test
    pack = build_followup(SPEC, [late], PEOPLE, rule=PassRule(70.0), now=NOW,
                          course_names={"old": "Koding 2023 Angkatan 2"}, course_ends={"old": NOW - DAY})
    [cls] = pack.classes
    assert cls.label == "tanpa kelas — Koding 2023 Angkatan 2" and [p.status for p in cls.people] == ["no_posttest"]
    assert build_followup(SPEC, [late], PEOPLE, rule=PassRule(70.0), now=NOW).classes == ()   # not known ended
