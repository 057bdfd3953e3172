"""Course content: ``core_course_get_contents``, section renaming through ``core_update_inplace_editable``,
and ``core_course_import_course``."""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import Call, course, sections_of, ws
from .completion import activity_status
from .content import MOD_INFO, import_content
from .errors import missing_record, moodle_error

DEFAULT_SECTION_NAME = "New section"


def section_name(section: r.Section) -> str:
    """The name Moodle shows: the set name, else "General" for section 0 and "New section" otherwise."""
    if section.name:
        return section.name
    return "General" if section.section == 0 else DEFAULT_SECTION_NAME


def module_dict(call: Call, cm: r.Module) -> dict[str, Any]:
    purpose, plural = MOD_INFO.get(cm.modname, ("other", cm.modname.capitalize() + "s"))
    out: dict[str, Any] = {
        "id": cm.id, "url": call.url(f"/mod/{cm.modname}/view.php?id={cm.id}"), "name": cm.name,
        "instance": cm.instance, "contextid": 1000 + cm.id, "visible": cm.visible, "uservisible": True,
        "visibleoncoursepage": 1, "modicon": call.pix(cm.modname, "monologo?filtericon=1"), "modname": cm.modname,
        "purpose": purpose, "branded": False, "modplural": plural, "availability": None, "indent": 0,
        "onclick": "", "afterlink": None, "customdata": '""', "noviewlink": cm.modname == "label",
        "completion": cm.completion,
    }
    if cm.completion:
        out["completiondata"] = activity_status(call.state, cm, call.userid)
    out.update({"downloadcontent": 1, "dates": [], "groupmode": 0})
    if cm.modname == "page":
        out["contents"] = [{
            "type": "file", "filename": "index.html", "filepath": "/", "filesize": 0,
            "fileurl": call.url(f"/webservice/pluginfile.php/{1000 + cm.id}/mod_page/content/index.html"
                                "?forcedownload=1"),
            "timecreated": None, "timemodified": cm.added, "sortorder": 1, "userid": None, "author": None,
            "license": None,
        }]
        out["contentsinfo"] = {"filescount": 1, "filessize": 0, "lastmodified": cm.added, "mimetypes": [],
                               "repositorytype": ""}
    return out


@ws("core_course_get_contents")
def get_contents(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    crs = course(call.state, p["courseid"])
    options = {o["name"].lower(): str(o["value"]) for o in p["options"]}
    exclude_modules = options.get("excludemodules") in ("1", "true")
    only_section = options.get("sectionid")
    only_number = options.get("sectionnumber")
    only_cm = options.get("cmid")
    only_modname = options.get("modname")
    out = []
    for sec in sections_of(call.state, crs.id):
        if only_section is not None and str(sec.id) != only_section:
            continue
        if only_number is not None and str(sec.section) != only_number:
            continue
        modules = []
        if not exclude_modules:
            for cmid in sec.sequence:
                cm = call.state.modules.get(cmid)
                if cm is None or (only_cm is not None and str(cm.id) != only_cm):
                    continue
                if only_modname is not None and cm.modname != only_modname:
                    continue
                modules.append(module_dict(call, cm))
        if only_cm is not None and not modules:
            continue
        out.append({
            "id": sec.id, "name": section_name(sec), "visible": sec.visible, "summary": sec.summary,
            "summaryformat": sec.summaryformat, "section": sec.section, "hiddenbynumsections": 0,
            "uservisible": True, "component": None, "itemid": None, "modules": modules,
        })
    return out


@ws("core_update_inplace_editable")
def update_inplace_editable(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    component, itemtype = p["component"], p["itemtype"]
    if component not in ("format_topics", "format_weeks") or itemtype not in ("sectionname", "sectionnamenl"):
        raise moodle_error("inplaceeditableerror", "Error while updating in-place editable field")
    try:
        itemid = int(str(p["itemid"]))
    except ValueError:
        raise missing_record("course_sections") from None
    sec = call.state.sections.get(itemid)
    crs = call.state.courses.get(sec.course) if sec else None
    if sec is None or crs is None or f"format_{crs.format}" != component:
        raise missing_record("course_sections")
    value = str(p["value"]).strip()
    call.state.update("sections", sec, name=value or None, timemodified=call.now)
    shown = section_name(sec)
    link = call.url(f"/course/section.php?id={sec.id}")
    return {
        "displayvalue": f'<a href="{link}">{shown}</a>' if itemtype == "sectionname" else shown,
        "component": component, "itemtype": itemtype, "value": sec.name or "", "itemid": str(sec.id),
        "edithint": "Edit section name", "editlabel": f"New name for section {shown}",
        "editicon": {"key": "t/editstring", "component": "moodle", "title": "Edit section name"},
        "type": "text", "options": "", "linkeverything": 0,
    }


@ws("core_course_import_course")
def import_course(call: Call, p: dict[str, Any]) -> None:
    source = course(call.state, p["importfrom"])
    target = course(call.state, p["importto"])
    if source.id == target.id:
        raise moodle_error("invalidcourseid", "You are trying to use an invalid course ID")
    import_content(call.state, source, target, delete_first=bool(p["deletecontent"]), now=call.now)
