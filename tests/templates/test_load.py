"""Loading and validating templates: every error names file:line: field."""

from __future__ import annotations

from pathlib import Path

import pytest

from moodle_sync.exceptions import InputError
from moodle_sync.templates import TemplateError, find_templates, load_template

from .conftest import MINIMAL, write_template


def load(root: Path, name: str):
    return load_template(name, sources=find_templates([root]))


def problems_of(root: Path, name: str) -> list[str]:
    with pytest.raises(TemplateError) as info:
        load(root, name)
    return [str(p) for p in info.value.problems]


def test_minimal_template_loads_typed(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    template = load(root, "contoh")
    assert template.title == "Contoh"
    assert [s.number for s in template.sections] == [1, 2]
    assert template.master is not None and template.master.field == "idnumber"
    assert template.master.value.source == "MASTER-X"
    assert template.format == "topics" and template.lang == "id" and template.enable_completion
    assert template.idnumber is not None and template.idnumber.line == 4 and template.idnumber.field == "idnumber"


def test_missing_required_key_in_a_section_names_file_line_field(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("  - number: 2\n    name: Materi\n",
                                                          "  - number: 2\n    summary: <p>x</p>\n"))
    assert problems_of(root, "contoh") == [f"{path}:10: sections[1].name: required"]


def test_error_is_an_input_error_with_file_row_field(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("title: Contoh\n", ""))
    with pytest.raises(InputError) as info:
        load(root, "contoh")
    assert (info.value.file, info.value.row, info.value.field) == (str(path), 1, "title")
    assert str(info.value) == f"{path}:1: title: required"


def test_unknown_key_suggests_the_close_one(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL + "sectoins: []\n")
    assert problems_of(root, "contoh") == [f"{path}:15: sectoins: unknown key (did you mean 'sections'?)"]


def test_wrong_types_and_formats_are_reported_together(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL + "visible: sometimes\nformat: grid\nlang: Bahasa\n"
                          "facilitator_role: student\nevidence: {pretest: 'pre test'}\n")
    found = problems_of(root, "contoh")
    assert f"{path}:15: visible: must be true or false, not a string" in found
    assert f"{path}:16: format: 'grid' is not one of singleactivity, social, topics, weeks" in found
    assert any(p.startswith(f"{path}:17: lang: 'Bahasa' is not a Moodle language code") for p in found)
    assert f"{path}:18: facilitator_role: 'student' is not one of editingteacher, teacher" in found
    assert any(p.startswith(f"{path}:19: evidence.pretest: 'pre test' is not an activity idnumber") for p in found)
    assert len(found) == 5


def test_section_numbers_must_be_unique_and_without_gaps(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("number: 2", "number: 1"))
    assert problems_of(root, "contoh") == [
        f"{path}:10: sections[1].number: section 1 is already given by sections[0]"]
    path = write_template(root, "contoh", MINIMAL.replace("number: 2", "number: 4"))
    assert problems_of(root, "contoh") == [
        f"{path}:7: sections: section numbers must run 1..N without gaps (missing 2, 3)"]


@pytest.mark.parametrize("master, said", [
    ("{idnumber: A, shortname: B}", "got idnumber and shortname"),
    ("{}", "got neither"),
])
def test_master_needs_exactly_one_of_idnumber_or_shortname(root: Path, master: str, said: str) -> None:
    path = write_template(root, "contoh", MINIMAL.replace("master:\n  idnumber: MASTER-X", f"master: {master}"))
    assert problems_of(root, "contoh") == [
        f"{path}:5: master: give exactly one of idnumber or shortname ({said})"]


def test_jinja_syntax_error_is_found_at_load(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL.replace('"Pelatihan {{ course.name }}"', '"{{ course.name "'))
    [problem] = problems_of(root, "contoh")
    assert problem.startswith(f"{path}:2: fullname: Jinja syntax error")


def test_syntax_error_in_a_file_names_its_line(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "summary: summary.html.j2\n",
                   {"summary.html.j2": "<p>ok</p>\n<p>{% if x %}</p>\n"})
    [problem] = problems_of(root, "contoh")
    assert problem.startswith(f"{root / 'contoh' / 'summary.html.j2'}:") and "Jinja syntax error" in problem


def test_summary_must_name_an_existing_j2_file(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL + "summary: ringkasan.html.j2\n")
    [problem] = problems_of(root, "contoh")
    assert problem.startswith(f"{path}:15: summary: no file 'ringkasan.html.j2'")


def test_duplicate_keys_and_bad_yaml_name_the_line(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL + "title: Lagi\n")
    assert problems_of(root, "contoh") == [f"{path}:15: title: duplicate key (first given on line 1)"]
    path = write_template(root, "contoh", MINIMAL + "sections: [\n")
    [problem] = problems_of(root, "contoh")
    assert problem.startswith(f"{path}:") and "not valid YAML" in problem


def test_yaml_is_loaded_safely(root: Path) -> None:
    write_template(root, "contoh", MINIMAL + "variables: {x: !!python/object/apply:os.system ['true']}\n")
    [problem] = problems_of(root, "contoh")
    assert "not valid YAML" in problem


def test_extends_deep_merges_child_wins_lists_replaced(root: Path) -> None:
    write_template(root, "induk", MINIMAL.replace("title: Contoh", "abstract: true\ntitle: Induk")
                   + "variables: {jp: 32, moda: daring}\nevidence: {pretest: pre, posttest: post}\n",
                   {"summary.html.j2": "<p>{{ offering.title }}</p>"})
    path = write_template(root, "anak", """\
        extends: induk
        title: Anak
        groups:
          name: "Rombel {{ letter }}"
        sections:
          - {number: 1, name: Satu-satunya}
        variables: {jp: 40}
        evidence: {posttest: akhir}
        master: {shortname: MASTER-Y}
        summary: summary.html.j2
        """)
    child = load(root, "anak")
    assert not child.abstract and child.parents == ("induk",)
    assert child.groups is not None and child.groups.name.source == "Rombel {{ letter }}"
    assert child.groups.name.file == str(path) and child.groups.name.line == 4
    assert child.groups.idnumber.source == "{{ course.idnumber }}-{{ letter | lower }}"   # inherited
    assert child.groups.idnumber.file == str(root / "induk" / "template.yaml")
    assert [s.name.source for s in child.sections] == ["Satu-satunya"]                  # list replaced
    assert child.variables == {"jp": 40, "moda": "daring"}
    assert (child.evidence.pretest_idnumber, child.evidence.posttest_idnumber) == ("pre", "akhir")
    assert child.master is not None and (child.master.field, child.master.value.source) == ("shortname",
                                                                                           "MASTER-Y")
    assert "summary.html.j2" in child.files                                               # parent's file
    assert load(root, "induk").abstract


def test_null_in_child_removes_an_inherited_key(root: Path) -> None:
    write_template(root, "induk", MINIMAL + "grouping: {name: Semua, idnumber: '{{ course.idnumber }}-all'}\n")
    write_template(root, "anak", "extends: induk\ntitle: Anak\ngrouping: null\n")
    assert load(root, "induk").grouping is not None
    assert load(root, "anak").grouping is None


def test_unknown_parent_is_a_bad_extends(root: Path) -> None:
    path = write_template(root, "anak", "title: Anak\nextends: tidak-ada\n")
    [problem] = problems_of(root, "anak")
    assert problem.startswith(f"{path}:2: extends: unknown template 'tidak-ada' (known: ")


def test_extends_cycle_is_reported(root: Path) -> None:
    write_template(root, "satu", "extends: dua\ntitle: Satu\n")
    write_template(root, "dua", "extends: satu\ntitle: Dua\n")
    assert problems_of(root, "satu") == [(f"{root / 'dua' / 'template.yaml'}:1: extends: extends itself: "
                                          "satu -> dua -> satu")]


def test_extends_must_be_a_name(root: Path) -> None:
    path = write_template(root, "anak", "extends: [a, b]\ntitle: Anak\n")
    assert problems_of(root, "anak") == [f"{path}:1: extends: must be the name of a template"]


def test_a_local_template_can_extend_the_shipped_one_of_the_same_name(root: Path) -> None:
    write_template(root, "koding-untuk-guru", "extends: koding-untuk-guru\ntitle: Koding Lokal\n"
                   "variables: {jp: 24}\n")
    sources = find_templates([root])
    assert sources["koding-untuk-guru"].path == root / "koding-untuk-guru"
    assert sources["koding-untuk-guru"].shadows                       # hides the shipped folder
    template = load_template("koding-untuk-guru", sources=sources)
    assert template.title == "Koding Lokal" and template.variables["jp"] == 24
    assert template.parents == ("koding-untuk-guru", "base")
    assert template.master is not None and template.master.value.source == "MASTER-KODING"


def test_unknown_template_name(root: Path) -> None:
    with pytest.raises(TemplateError, match="unknown template 'nope'"):
        load(root, "nope")


def test_load_by_path(root: Path) -> None:
    write_template(root, "contoh", MINIMAL)
    assert load_template(str(root / "contoh"), sources={}).title == "Contoh"


def test_aliases_are_loaded_and_inherited_through_extends(root: Path) -> None:
    write_template(root, "induk", MINIMAL.replace("title: Contoh", "title: Induk\naliases: [Koding, ' Coding ']"))
    write_template(root, "anak", "extends: induk\ntitle: Anak\n")
    write_template(root, "cucu", "extends: induk\ntitle: Cucu\naliases: [Pemrograman]\n")
    assert load(root, "induk").aliases == ("Koding", "Coding")
    assert load(root, "anak").aliases == ("Koding", "Coding")          # inherited
    assert load(root, "cucu").aliases == ("Pemrograman",)              # a list is replaced whole
    assert load(root, "cucu").describe()["aliases"] == ["Pemrograman"]
    write_template(root, "polos", MINIMAL)
    assert load(root, "polos").aliases == ()


def test_bad_aliases_name_file_line_and_item(root: Path) -> None:
    path = write_template(root, "contoh", MINIMAL + "aliases:\n  - Koding\n  - 3\n  - ''\n  - Koding\n")
    assert problems_of(root, "contoh") == [
        f"{path}:17: aliases[1]: must be a string, not the number 3",
        f"{path}:18: aliases[2]: must not be empty",
        f"{path}:19: aliases[3]: 'Koding' is listed twice"]
    path = write_template(root, "satu", MINIMAL + "aliases: Koding\n")
    assert problems_of(root, "satu") == [f"{path}:15: aliases: must be a list, not a string"]
