"""Selection with programme choice, eligibility and model schools, on the sandbox and on the real Moodle 4.5
lab (when ``MOODLE_LAB_DB_URL`` and the lab's ``MOODLE_URL``/``MOODLE_TOKEN`` are set, as in
test_main_job.py): apply the model-school example offering, then ``select`` the combined three-programme
form against the site. Selection only reads: it writes nothing to Moodle. Both targets give the same
buckets, person for person.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import run, run_json, writes
from tests.e2e.conftest import EXAMPLES, Target

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
BUCKETS = ("selected", "waitlisted", "not_selected", "not_eligible", "other_programme")
RESULTS: dict[str, dict[str, list[str]]] = {}


def _offering(folder: Path, offering_id: str) -> Path:
    """The model-school example under a new id, with a years-of-service rule so that some are not eligible."""
    document = yaml.safe_load((EXAMPLES / "offering-koding-model.yaml").read_text("utf-8"))
    document.update(id=offering_id, category=f"E2E {offering_id} / Koding")
    document["applicants"]["eligible"]["years_of_service"] = {"min": 5}
    path = folder / "offering.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_select_combined_form_on_an_applied_offering(target: Target, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    offering_id = f"sel-{uuid.uuid4().hex[:8]}"
    target.use(monkeypatch, tmp_path / "store.sqlite")
    offering = str(_offering(tmp_path, offering_id))
    code, out, err = run(capsys, "apply", offering, "--yes", "--quiet")
    assert code == 0, out + err

    before = target.sandbox.control.call_counts() if target.sandbox else {}
    code, doc = run_json(capsys, "select", offering, "--applicants", str(EXAMPLES / "registrations-combined.csv"),
                         "--output", str(tmp_path / "seleksi"))
    assert code == 0, doc
    if target.sandbox:   # selection only reads
        after = target.sandbox.control.call_counts()
        assert writes({k: n - before.get(k, 0) for k, n in after.items() if n > before.get(k, 0)}) == {}

    emails = Counter(e["email"] for b in BUCKETS for e in doc[b])
    assert len(emails) == doc["counts"]["accepted"] == 240 and set(emails.values()) == {1}
    assert all(e["regency"] for b in BUCKETS for e in doc[b])
    assert len(doc["selected"]) == 36 and doc["other_programme"] and doc["not_eligible"]
    assert {e["cause"] for e in doc["not_eligible"]} == {"years_of_service"}
    model = [e for e in doc["selected"] if e["cause"] == "model_school"]
    assert Counter(e["npsn"] for e in model) == {"10807001": 6, "10807002": 6}
    RESULTS[target.name] = {b: sorted(e["email"] for e in doc[b]) for b in BUCKETS}


def test_sandbox_and_lab_select_the_same_people() -> None:
    if "lab" not in RESULTS or "sandbox" not in RESULTS:
        pytest.skip("needs the selection on both the sandbox and the lab in this run")
    assert RESULTS["sandbox"] == RESULTS["lab"]
