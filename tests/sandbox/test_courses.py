"""Categories, courses, sections and import, as the sandbox runs them."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.sandbox.errors import SandboxMoodleError
from moodle_sync.sandbox.server import SandboxServer
from tests.conftest import sample

from .conftest import post


def call(server: SandboxServer, function: str, params: dict[str, Any] | None = None) -> Any:
    return server.moodle.call(function, params or {})


def error_of(server: SandboxServer, function: str, params: dict[str, Any]) -> SandboxMoodleError:
    with pytest.raises(SandboxMoodleError) as info:
        call(server, function, params)
    return info.value


def new_course(server: SandboxServer, shortname: str, **extra: Any) -> int:
    spec = {"fullname": shortname.title(), "shortname": shortname, "categoryid": 1, **extra}
    return call(server, "core_course_create_courses", {"courses": [spec]})[0]["id"]


def section_names(server: SandboxServer, courseid: int) -> list[str]:
    return [s["name"] for s in call(server, "core_course_get_contents", {"courseid": courseid})]


def test_seed_has_the_five_masters_with_pretest_and_posttest(sandbox: SandboxServer) -> None:
    masters = call(sandbox, "core_course_get_courses_by_field", {"field": "category", "value": "2"})["courses"]
    assert [c["shortname"] for c in masters] == ["MASTER-KODING", "MASTER-AI", "MASTER-STEM", "MASTER-PM",
                                                 "MASTER-LAUT"]
    assert all(c["idnumber"] == c["shortname"] for c in masters)
    for c in masters:
        contents = call(sandbox, "core_course_get_contents", {"courseid": c["id"]})
        assert 5 <= len(contents) <= 7  # section 0 plus 4-6 named sections
        modules = [m for s in contents for m in s["modules"] if m["modname"] != "forum"]
        assert [m["name"] for m in contents[0]["modules"] if m["modname"] == "forum"] == ["Announcements"]
        assert all(m["completion"] for m in modules)
        assert any(m["modname"] == "quiz" and m["name"] == "Pretest" for m in modules)
    cats = call(sandbox, "core_course_get_categories")
    assert [(c["id"], c["name"]) for c in cats][:1] == [(1, "Category 1")]


def test_sections_follow_numsections(sandbox: SandboxServer) -> None:
    plain = new_course(sandbox, "plain")
    assert section_names(sandbox, plain) == ["General"]
    three = new_course(sandbox, "three", courseformatoptions=[{"name": "numsections", "value": "3"}])
    assert section_names(sandbox, three) == ["General", "New section", "New section", "New section"]


def test_shortname_and_idnumber_are_unique(sandbox: SandboxServer) -> None:
    spec = {"fullname": "WS Sample Course 1795818176", "shortname": "wssample1795818176",
            "categoryid": 1, "idnumber": "WSSAMPLE1795818176"}
    post(sandbox, "core_course_create_courses", {"courses": [spec]})
    assert post(sandbox, "core_course_create_courses", {"courses": [spec]}) == \
        sample("core_course_create_courses-shortnametaken")
    err = error_of(sandbox, "core_course_create_courses", {"courses": [{**spec, "shortname": "other"}]})
    assert err.errorcode == "courseidnumbertaken"
    assert err.message == "ID number is already used for another course (WSSAMPLE1795818176)"
    err = error_of(sandbox, "core_course_create_courses", {"courses": [
        {"fullname": "ok", "shortname": "ok1", "categoryid": 1}, {**spec, "shortname": "x", "categoryid": 999}]})
    assert err.errorcode == "errorcatcontextnotvalid"
    assert call(sandbox, "core_course_get_courses_by_field", {"field": "shortname", "value": "ok1"})["courses"] == []


def test_courses_by_field(sandbox: SandboxServer) -> None:
    ids = [new_course(sandbox, f"c{i}", idnumber=f"ID{i}") for i in range(3)]
    by = lambda f, v: [c["id"] for c in call(sandbox, "core_course_get_courses_by_field",
                                              {"field": f, "value": v})["courses"]]
    assert by("id", ids[0]) == [ids[0]]
    assert by("ids", f"{ids[2]},{ids[0]}") == [ids[0], ids[2]]
    assert by("idnumber", "ID1") == [ids[1]]
    assert by("shortname", "c2") == [ids[2]]
    assert by("category", 1) == ids
    assert len(by("", "")) == 8
    assert by("shortname", "none") == []


def test_update_courses_answers_warnings_per_course(sandbox: SandboxServer) -> None:
    a, b = new_course(sandbox, "a1"), new_course(sandbox, "b1")
    result = call(sandbox, "core_course_update_courses", {"courses": [
        {"id": a, "fullname": "Baru", "courseformatoptions": [{"name": "numsections", "value": "2"}]},
        {"id": b, "shortname": "a1"}]})
    assert [w["warningcode"] for w in result["warnings"]] == ["shortnametaken"]
    assert result["warnings"][0]["itemid"] == b
    course = call(sandbox, "core_course_get_courses_by_field", {"field": "id", "value": a})["courses"][0]
    assert course["fullname"] == "Baru"
    assert len(section_names(sandbox, a)) == 3
    assert call(sandbox, "core_course_update_courses", {"courses": [{"id": a, "visible": 0}]}) == {"warnings": []}


def test_delete_courses_warns_for_missing_ids(sandbox: SandboxServer) -> None:
    cid = new_course(sandbox, "gone")
    assert post(sandbox, "core_course_delete_courses", {"courseids": [cid]}) == sample("core_course_delete_courses")
    again = post(sandbox, "core_course_delete_courses", {"courseids": [cid]})
    assert again["warnings"][0] == {**sample("core_course_delete_courses-again")["warnings"][0], "itemid": cid,
                                    "message": f"Unknown course ID {cid}"}


def test_categories_criteria_subcategories_and_deletion(sandbox: SandboxServer) -> None:
    top = call(sandbox, "core_course_create_categories", {"categories": [{"name": "BGTK", "idnumber": "BGTK"}]})[0]
    sub = call(sandbox, "core_course_create_categories", {"categories": [{"name": "2026", "parent": top["id"]}]})[0]
    err = error_of(sandbox, "core_course_create_categories", {"categories": [{"name": "X", "idnumber": "BGTK"}]})
    assert err.errorcode == "categoryidnumbertaken"
    found = call(sandbox, "core_course_get_categories", {"criteria": [{"key": "idnumber", "value": "BGTK"}]})
    assert [c["id"] for c in found] == [top["id"], sub["id"]]
    assert found[1]["path"] == f"/{top['id']}/{sub['id']}" and found[1]["depth"] == 2
    only = call(sandbox, "core_course_get_categories", {"criteria": [{"key": "id", "value": str(top["id"])}],
                                                        "addsubcategories": 0})
    assert [c["id"] for c in only] == [top["id"]]
    cid = new_course(sandbox, "insub", categoryid=sub["id"])
    call(sandbox, "core_course_delete_categories", {"categories": [{"id": sub["id"]}]})
    moved = call(sandbox, "core_course_get_courses_by_field", {"field": "id", "value": cid})["courses"][0]
    assert moved["categoryid"] == top["id"]
    err = error_of(sandbox, "core_course_delete_categories", {"categories": [{"id": top["id"]}]})
    assert err.errorcode == "movecatcontentstoroot"
    call(sandbox, "core_course_delete_categories", {"categories": [{"id": top["id"], "recursive": 1}]})
    assert sandbox.state.courses.get(cid) is None


def test_inplace_editable_renames_a_section(sandbox: SandboxServer) -> None:
    cid = new_course(sandbox, "rename", courseformatoptions=[{"name": "numsections", "value": "1"}])
    section = call(sandbox, "core_course_get_contents", {"courseid": cid})[1]
    answer = call(sandbox, "core_update_inplace_editable", {"component": "format_topics", "itemtype": "sectionname",
                                                            "itemid": str(section["id"]), "value": "Renamed section"})
    expected = sample("extra/core_update_inplace_editable")
    link = f'<a href="{sandbox.url}/course/section.php?id={section["id"]}">Renamed section</a>'
    assert answer == {**expected, "displayvalue": link, "itemid": str(section["id"])}
    assert section_names(sandbox, cid)[1] == "Renamed section"
    err = error_of(sandbox, "core_update_inplace_editable", {"component": "format_weeks", "itemtype": "sectionname",
                                                             "itemid": str(section["id"]), "value": "x"})
    assert err.errorcode == "invalidrecord"


def test_import_copies_sections_activities_grade_items_and_criteria(sandbox: SandboxServer) -> None:
    target = new_course(sandbox, "angkatan1", enablecompletion=1)
    assert call(sandbox, "core_course_import_course", {"importfrom": 2, "importto": target}) is None
    source = call(sandbox, "core_course_get_contents", {"courseid": 2})
    copied = call(sandbox, "core_course_get_contents", {"courseid": target})
    assert [s["name"] for s in copied] == [s["name"] for s in source]
    strip = lambda cs: [[(m["modname"], m["name"], m["completion"]) for m in s["modules"]] for s in cs]
    # As on a real 4.5 site, the target keeps its own Announcements forum beside the imported one.
    assert strip(copied) == [[("forum", "Announcements", 0)] + strip(source)[0]] + strip(source)[1:]
    idnumbers = {m.idnumber for m in sandbox.state.modules.find("course", target)}
    assert {"pretest", "posttest"} <= idnumbers
    items = {i.idnumber: i.grademax for i in sandbox.state.grade_items.find("course", target) if i.idnumber}
    assert items["pretest"] == 10.0
    assert len(sandbox.state.courses.get(target).criteria) == len(sandbox.state.courses.get(2).criteria)
    call(sandbox, "core_course_import_course", {"importfrom": 2, "importto": target})
    twice = [m for m in sandbox.state.modules.find("course", target) if m.name == "Pretest"]
    assert [m.idnumber for m in twice] == ["pretest", ""]  # a taken idnumber is not copied again
    call(sandbox, "core_course_import_course", {"importfrom": 3, "importto": target, "deletecontent": 1})
    assert [s["name"] for s in call(sandbox, "core_course_get_contents", {"courseid": target})] == \
        [s["name"] for s in call(sandbox, "core_course_get_contents", {"courseid": 3})]
    assert error_of(sandbox, "core_course_import_course", {"importfrom": 999, "importto": target}).errorcode == \
        "invalidrecord"
