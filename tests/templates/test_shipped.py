"""The shipped templates: valid, in Bahasa Indonesia, and each renders the example offering."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.offerings import load_offering
from moodle_sync.regions import LAMPUNG
from moodle_sync.templates import check_templates, load_template, render_offering

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "offering-koding.yaml"
MASTERS = {"koding-untuk-guru": "MASTER-KODING", "ai-untuk-pendidikan": "MASTER-AI",
           "stem-terpadu": "MASTER-STEM", "pembelajaran-mendalam": "MASTER-PM", "literasi-kelautan": "MASTER-LAUT"}


def test_all_templates_check_clean() -> None:
    assert check_templates() == []


def test_base_is_abstract() -> None:
    assert load_template("base").abstract


@pytest.mark.parametrize("name", sorted(MASTERS))
def test_each_template_renders_the_example_into_15_courses(name: str) -> None:
    template = load_template(name)
    assert template.parents == ("base",)
    spec = render_offering(load_offering(EXAMPLE), template)
    assert len(spec.courses) == 15
    assert [c.regency for c in spec.courses] == [r.slug for r in LAMPUNG]
    assert len({c.shortname for c in spec.courses}) == 15
    assert len({c.idnumber for c in spec.courses}) == 15
    for course in spec.courses:
        assert course.idnumber == f"koding-2026-a1-{course.key}"
        assert course.master_course is not None
        assert (course.master_course.field, course.master_course.value) == ("idnumber", MASTERS[name])
        assert (course.evidence.pretest_idnumber, course.evidence.posttest_idnumber) == ("pretest", "posttest")
        assert course.lang == "id" and course.format == "topics" and course.enable_completion
        assert 6 <= course.numsections <= 10
        assert [s.number for s in course.sections] == list(range(course.numsections + 1))
        assert {"Pre-test", "Post-test"} <= {s.name for s in course.sections}
        assert course.summary.startswith("<p><strong>Koding untuk Guru 2026</strong>")
        assert "Pelaksanaan" in course.summary and "3 Agustus 2026" in course.summary
        assert len(course.groups) == 1 and course.grouping is not None
        assert course.start_date < course.end_date
    assert spec.course("metro").facilitators[0].groups == ("koding-2026-a1-metro-kelas-a",)
    tanggamus = spec.course("tanggamus").facilitators[0]          # by class name in the CSV
    assert tanggamus.groups == ("koding-2026-a1-tanggamus-kelas-a",)


@pytest.mark.parametrize("example", ["offering-kelautan.yaml", "offering-pembelajaran-mendalam.yaml"])
def test_other_examples_render(example: str) -> None:
    offering = load_offering(REPO / "examples" / example)
    spec = render_offering(offering, load_template(offering.template))
    assert len(spec.courses) == len(offering.course_keys)
    assert sum(len(c.groups) for c in spec.courses) == sum(offering.classes_for(k) for k in offering.course_keys)


def test_pembelajaran_mendalam_is_about_pedagogy_not_neural_networks() -> None:
    template = load_template("pembelajaran-mendalam")
    text = " ".join([template.description, template.files["summary.html.j2"].source]
                    + [s.name.source for s in template.sections]).lower()
    assert {"berkesadaran", "bermakna", "menggembirakan"} <= set(text.replace(",", " ").split())
    assert "neural" not in text and "jaringan saraf" not in template.files["summary.html.j2"].source.lower()
