"""Rendering offerings through templates: StrictUndefined, autoescape, sandbox, rendered-value checks."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from moodle_sync.offerings import Facilitator
from moodle_sync.templates import TemplateError, find_templates, load_template, render_offering

from .conftest import MINIMAL, make_offering, write_template


def render(root: Path, name: str = "contoh", **offering_changes: object):
    template = load_template(name, sources=find_templates([root]))
    return render_offering(make_offering(**offering_changes), template)


def render_problems(root: Path, name: str = "contoh", **offering_changes: object) -> list[str]:
    with pytest.raises(TemplateError) as info:
        render(root, name, **offering_changes)
    return [str(p) for p in info.value.problems]


def test_renders_one_course_per_regency_with_classes(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    spec = render(root)
    assert spec.offering_id == "uji-2026-a1" and spec.template == "contoh"
    assert [c.key for c in spec.courses] == ["pringsewu", "mesuji", "metro"]   # the regencies' official order
    metro = spec.course("metro")
    assert metro.fullname == "Pelatihan Kota Metro"
    assert metro.shortname == "UJI-2026-A1-METRO" and metro.idnumber == "uji-2026-a1-metro"
    assert metro.regency == "metro" and metro.category_path == ("BGTK Lampung", "2026", "Uji")
    assert [(g.name, g.idnumber) for g in metro.groups] == [("Kelas Metro A", "uji-2026-a1-metro-a"),
                                                            ("Kelas Metro B", "uji-2026-a1-metro-b")]
    assert metro.master_course is not None and metro.master_course.value == "MASTER-X"
    assert metro.start_date == 1783270800          # 2026-07-06 00:00 WIB = 2026-07-05 17:00 UTC
    assert metro.numsections == 2 and metro.lang == "id" and metro.enable_completion


def test_rendering_is_deterministic(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    first, second = render(root), render(root)
    assert first == second
    assert [c.spec_hash() for c in first.courses] == [c.spec_hash() for c in second.courses]


def test_single_course_has_key_main_and_no_regency(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    spec = render(root, courses="single", seats=60)
    [course] = spec.courses
    assert course.key == "main" and course.regency is None
    assert course.fullname == "Pelatihan Provinsi Lampung"
    assert [g.name for g in course.groups] == ["Kelas Lampung A", "Kelas Lampung B"]


def test_missing_variable_in_yaml_string_names_file_line_field(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("name: Materi", 'name: "Materi {{ variables.topik }}"'))
    [problem] = render_problems(root)
    assert problem.startswith(f"{path}:11: sections[1].name: undefined variable: ")
    assert "topik" in problem


def test_strict_undefined_even_for_a_plain_missing_name(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("Pelatihan {{ course.name }}", "{{ kabupaten }}"))
    assert render_problems(root) == [f"{path}:2: fullname: undefined variable: 'kabupaten' is undefined"]


def test_single_course_has_no_regency_attributes(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("{{ course.short }}", "{{ regency.short }}"))
    assert render(root).course("metro").groups[0].name == "Kelas Metro A"
    [problem] = render_problems(root, courses="single")
    assert problem.startswith(f"{path}:13: groups.name: undefined variable:")


def test_missing_variable_in_a_file_names_the_line_inside_it(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "summary: summary.html.j2\n",
                   {"summary.html.j2": "<p>{{ offering.title }}</p>\n<p>{{ variables.tidak_ada }}</p>\n"})
    [problem] = render_problems(root)
    assert problem.startswith(f"{root / 'contoh' / 'summary.html.j2'}:2: summary: undefined variable:")


def test_missing_variable_in_an_included_file_names_that_file(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "summary: summary.html.j2\n",
                   {"summary.html.j2": "<p>x</p>\n{% include '_bagian.html.j2' %}\n",
                    "_bagian.html.j2": "<p>ok</p>\n<p>ok</p>\n<p>{{ hilang }}</p>\n"})
    assert render_problems(root) == [
        f"{root / 'contoh' / '_bagian.html.j2'}:3: summary: undefined variable: 'hilang' is undefined"]


def test_html_summary_is_autoescaped_but_names_are_not(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "summary: summary.html.j2\n",
                   {"summary.html.j2": "<p>{{ offering.title }}</p>"})
    spec = render(root, title="AI & Etika <script>alert(1)</script>")
    course = spec.course("metro")
    assert course.summary == "<p>AI &amp; Etika &lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert spec.title == "AI & Etika <script>alert(1)</script>"


def test_section_summaries_and_group_descriptions_are_autoescaped(root: Path) -> None:
    text = MINIMAL.replace("    name: Orientasi\n", "    name: Orientasi\n    summary: '<p>{{ variables.x }}</p>'\n")
    text += "  description: '<p>{{ variables.x }}</p>'\n"
    write_template(root, "contoh", text)
    course = render(root, variables={"x": "<b>tebal</b>"}).course("metro")
    assert course.sections[0].summary == "<p>&lt;b&gt;tebal&lt;/b&gt;</p>"
    assert course.groups[0].description == "<p>&lt;b&gt;tebal&lt;/b&gt;</p>"


def test_sandbox_refuses_unsafe_attribute_access(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace(
        "Pelatihan {{ course.name }}", "{{ offering.start.__class__.__mro__ }}"))
    [problem] = render_problems(root)
    assert problem.startswith(f"{path}:2: fullname:")


def test_tanggal_filter_and_variables_precedence(root: Path) -> None:
    write_template(root, "contoh", MINIMAL.replace("Pelatihan {{ course.name }}",
                                                   "{{ variables.jenis }} {{ offering.start | tanggal }}")
                   + "variables: {jenis: Pelatihan, lain: 1}\n")
    assert render(root).course("metro").fullname == "Pelatihan 6 Juli 2026"
    assert render(root, variables={"jenis": "Lokakarya"}).course("metro").fullname == "Lokakarya 6 Juli 2026"


def test_offering_visibility_overrides_the_template(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "visible: false\n")
    assert render(root).course("metro").visible is False
    assert render(root, visible=True).course("metro").visible is True


def test_shortname_with_spaces_is_rejected_after_rendering(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace('"{{ offering.id | upper }}-{{ course.key | upper }}"',
                                                          '"Uji {{ course.short }}"'))
    assert render_problems(root) == [
        (f"{path}:3: shortname: renders to 'Uji Pringsewu' for course 'pringsewu': use only letters, digits, '.', "
         "'_' and '-' (no spaces), starting with a letter or digit (and 2 more like it)")]


def test_duplicate_shortnames_and_idnumbers_are_rejected(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace('"{{ offering.id | upper }}-{{ course.key | upper }}"',
                                                          "SAMA").replace("-{{ course.key }}", "-x"))
    found = render_problems(root)
    assert f"{path}:3: shortname: courses 'pringsewu' and 'mesuji' both render to 'SAMA': use " \
           "{{ course.key }} in it (and 1 more like it)" in found
    assert any(p.startswith(f"{path}:4: idnumber: courses 'pringsewu' and 'mesuji' both render to") for p in found)


def test_idnumber_must_contain_the_offering_id(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace('idnumber: "{{ offering.id }}-{{ course.key }}"',
                                                          'idnumber: "kursus-{{ course.key }}"'))
    [problem] = render_problems(root)
    assert problem.startswith(f"{path}:4: idnumber: renders to 'kursus-pringsewu' for course 'pringsewu', which "
                              "does not contain the offering id 'uji-2026-a1'")
    assert problem.endswith("(and 2 more like it)")


def test_group_names_must_differ_within_a_course(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("Kelas {{ course.short }} {{ letter }}", "Kelas"))
    assert render_problems(root) == [
        (f"{path}:13: groups.name: two classes of course 'pringsewu' render to 'Kelas': use {{{{ letter }}}} in it "
         "(and 2 more like it)")]


def test_abstract_template_cannot_be_rendered(root: Path) -> None:
    write_template(root, "contoh", "abstract: true\ntitle: Dasar\n")
    with pytest.raises(TemplateError, match="is abstract"):
        render(root)


def test_facilitators_lead_their_classes(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    template = load_template("contoh", sources=find_templates([root]))
    people = (Facilitator("rina@guru.belajar.id", "Rina", "Kusumawati", "metro", "B", "f.csv", 2),
              Facilitator("rina@guru.belajar.id", "Rina", "Kusumawati", "metro", "Kelas Metro A", "f.csv", 3),
              Facilitator("agus@example.org", "Agus", "-", "mesuji", None, "f.csv", 4))
    offering = dataclasses.replace(make_offering(), facilitators=people)
    spec = render_offering(offering, template)
    [rina] = spec.course("metro").facilitators
    assert rina.groups == ("uji-2026-a1-metro-b", "uji-2026-a1-metro-a")
    [agus] = spec.course("mesuji").facilitators
    assert agus.groups == () and (agus.firstname, agus.lastname) == ("Agus", "-")
    assert spec.course("pringsewu").facilitators == ()


def test_facilitator_of_an_unknown_class_names_the_csv_row(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    template = load_template("contoh", sources=find_templates([root]))
    offering = dataclasses.replace(make_offering(), facilitators=(
        Facilitator("rina@guru.belajar.id", "Rina", "K", "metro", "Kelas Pagi", "fasilitator.csv", 7),))
    with pytest.raises(TemplateError) as info:
        render_offering(offering, template)
    assert str(info.value) == ("fasilitator.csv:7: class: no class 'Kelas Pagi' in course 'metro' "
                               "(classes: Kelas Metro A, Kelas Metro B)")
