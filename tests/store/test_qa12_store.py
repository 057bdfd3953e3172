"""QA of issue 12 on the store (SQLite and PostgreSQL): what the analysts' views let out, and pull runs a
killed process left ``running``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from moodle_sync.store import ParticipantRecord, Store

from .conftest import Clock

# Reasons as moodle-sync writes them (roster.plan_withdrawal, selection._model_school_seats and promotion,
# enrolment's "username taken", eligibility's school rule): each names a person or a school.
PERSONAL_REASONS = (
    "promoted from the waitlist: seat of ani@lampung.id",
    "selected, rank 3 (1st in Kota Metro, model school SDN 1 Metro: 2 reserved seat(s))",
    ("selected, rank 4 (2nd in Kota Metro, promoted from waitlist position 2 after ani@lampung.id withdrew "
    "(first on the waitlist of Kota Metro))"),
    "withdrew (was selected, rank 3 (1st in Kota Metro, model school SDN 1 Metro: 2 reserved seat(s)))",
    "not eligible (school): school SDN 9 Metro (NPSN 10800001) is not on the list of 3 target schools",
    ("username budi@lampung.id is already Moodle user 40 with e-mail budi@lampung.id: merge or rename that "
    "account first"),
)


def _outcomes(store: Store) -> list[dict[str, Any]]:
    with store._read() as conn:
        return [dict(r._mapping) for r in conn.execute(text("SELECT * FROM v_selection_outcomes ORDER BY rank"))]


def test_selection_outcomes_never_show_a_reason_naming_a_person_or_a_school(store_url: str) -> None:
    with Store.open(store_url, clock=Clock()) as opened:
        store = opened.for_site(opened.register_site("https://lms.lampung.example.id", "BGP Lampung").site_id)
        store.save_offering("koding", "koding-untuk-guru", "Koding", {"courses": [{"key": "main"}]})
        store.save_participants("koding", [
            ParticipantRecord(f"guru{i}@lampung.id", f"Guru {i}", regency="metro", status="selected", rank=i,
                              reason=reason, school="SDN 1 Metro")
            for i, reason in enumerate(PERSONAL_REASONS + (("selected, rank 9 (3rd in Kota Metro, never trained "
                                                           "tier)"),), start=1)])
        found = _outcomes(store)
    assert len(found) == len(PERSONAL_REASONS) + 1
    for row in found:
        reason = row["reason"] or ""
        assert "@" not in reason and "SDN" not in reason and "NPSN" not in reason, row
    assert found[-1]["reason"] == "selected, rank 9 (3rd in Kota Metro, never trained tier)"   # harmless: kept


def test_a_run_left_running_by_a_killed_pull_is_marked_failed_by_the_next_pull_of_its_site(store_url: str) -> None:
    from moodle_sync.evidence.sites import SiteJob, pull_site

    def no_moodle() -> Any:
        raise AssertionError("nothing to pull: Moodle is not called")

    with Store.open(store_url, clock=Clock()) as opened:
        a, b = (opened.for_site(opened.register_site(u, n).site_id)
                for u, n in (("https://a.example.id", "A"), ("https://b.example.id", "B")))
        dead, other = a.start_run(["koding"], "full"), b.start_run(["koding"], "full")   # then kill -9
        outcome = pull_site(SiteJob("a", lambda: a, no_moodle), ["koding"], several=True)
        assert outcome.status == "ok" and outcome.offerings == []
        (run,) = a.runs()
        assert (run.id, run.status, run.finished_at is not None) == (dead.id, "failed", True)
        assert "did not finish" in run.errors[0]
        assert b.runs()[0].status == "running" and b.runs()[0].id == other.id   # another site's run: not ours
