"""Categories and courses: get/create/update/delete, as Moodle 4.5's ``core_course_*`` functions do them."""

from __future__ import annotations

from typing import Any

from . import records as r
from .calls import Call, ws
from .content import FORMAT_OPTIONS, create_course, delete_course
from .errors import invalid_parameter, missing_record, moodle_error
from .state import State

FILTERS = ["displayh5p", "activitynames", "mathjaxloader", "emoticon", "urltolink", "mediaplugin"]
COURSE_FORMATS = ("topics", "weeks", "social", "singleactivity")


# ----------------------------------------------------------------------------- categories
def _category_path(state: State, cat: r.Category) -> list[int]:
    path = [cat.id]
    parent = cat.parent
    while parent:
        p = state.categories.get(parent)
        if p is None:
            break
        path.insert(0, p.id)
        parent = p.parent
    return path


def category_dict(state: State, cat: r.Category) -> dict[str, Any]:
    path = _category_path(state, cat)
    return {
        "id": cat.id, "name": cat.name, "idnumber": cat.idnumber, "description": cat.description,
        "descriptionformat": cat.descriptionformat, "parent": cat.parent, "sortorder": cat.sortorder,
        "coursecount": state.courses.count("category", cat.id), "visible": cat.visible, "visibleold": cat.visible,
        "timemodified": cat.timemodified, "depth": len(path), "path": "/" + "/".join(str(p) for p in path),
        "theme": cat.theme,
    }


def _descendants(state: State, catid: int) -> list[r.Category]:
    out: list[r.Category] = []
    for child in sorted(state.categories.find("parent", catid), key=lambda c: c.sortorder):
        out.append(child)
        out.extend(_descendants(state, child.id))
    return out


@ws("core_course_get_categories")
def get_categories(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    found = sorted(state.categories, key=lambda c: c.sortorder)
    for crit in p["criteria"]:
        key, value = crit["key"], str(crit["value"])
        if key == "id":
            found = [c for c in found if str(c.id) == value]
        elif key == "ids":
            ids = {v.strip() for v in value.split(",")}
            found = [c for c in found if str(c.id) in ids]
        elif key == "name":
            found = [c for c in found if c.name == value]
        elif key == "idnumber":
            found = [c for c in found if (c.idnumber or "") == value]
        elif key == "parent":
            found = [c for c in found if str(c.parent) == value]
        elif key == "visible":
            found = [c for c in found if str(c.visible) == value]
        elif key == "theme":
            found = [c for c in found if c.theme == value]
        else:
            raise invalid_parameter(f"The key is invalid: {key}")
    if p["addsubcategories"] and p["criteria"]:
        seen = {c.id for c in found}
        for cat in list(found):
            for sub in _descendants(state, cat.id):
                if sub.id not in seen:
                    seen.add(sub.id)
                    found.append(sub)
    return [category_dict(state, c) for c in found]


@ws("core_course_create_categories")
def create_categories(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for cat in call.records(p["categories"]):
        parent = cat["parent"]
        if parent and state.categories.get(parent) is None:
            raise missing_record("course_categories")
        idnumber = cat.get("idnumber")
        if idnumber and state.categories.first("idnumber", idnumber) is not None:
            raise moodle_error("categoryidnumbertaken", "ID number is already used for another category")
        if not cat["name"].strip():
            raise moodle_error("categorynamerequired", "The category name is required")
        siblings = state.categories.find("parent", parent)
        base = state.categories.get(parent).sortorder if parent else 0  # type: ignore[union-attr]
        sortorder = (max((s.sortorder for s in siblings), default=base) + 1 if parent
                     else max((s.sortorder for s in siblings), default=0) + 10000)
        row = state.insert("categories", r.Category(
            id=0, name=cat["name"], idnumber=idnumber or None, description=cat.get("description") or "",
            descriptionformat=cat["descriptionformat"], parent=parent, sortorder=sortorder,
            timemodified=call.now, theme=cat.get("theme") or ""))
        out.append({"id": row.id, "name": row.name})
    return out


@ws("core_course_delete_categories")
def delete_categories(call: Call, p: dict[str, Any]) -> None:
    state = call.state
    for item in call.records(p["categories"]):
        cat = state.categories.get(item["id"])
        if cat is None:
            raise missing_record("course_categories")
        if item["recursive"]:
            _delete_category_tree(state, cat)
            continue
        target_id = item.get("newparent") or cat.parent
        if not target_id:
            raise moodle_error("movecatcontentstoroot", "Moving contents of a category to the root is not allowed")
        if state.categories.get(target_id) is None:
            raise missing_record("course_categories")
        if target_id in [c.id for c in _descendants(state, cat.id)] or target_id == cat.id:
            raise moodle_error("cannotmovecategory", "Cannot move category contents into itself")
        for child in state.categories.find("parent", cat.id):
            state.update("categories", child, parent=target_id)
        for crs in state.courses.find("category", cat.id):
            state.update("courses", crs, category=target_id)
        state.delete("categories", cat)


def _delete_category_tree(state: State, cat: r.Category) -> None:
    for child in state.categories.find("parent", cat.id):
        _delete_category_tree(state, child)
    for crs in state.courses.find("category", cat.id):
        delete_course(state, crs)
    state.delete("categories", cat)


# ----------------------------------------------------------------------------- courses
def course_dict(call: Call, c: r.Course) -> dict[str, Any]:
    """A course as ``core_course_get_courses_by_field`` shows it."""
    state = call.state
    cat = state.categories.get(c.category)
    contacts = []
    for e in state.enrolments.find("course", c.id):
        if 3 in e.roles and e.status == 0:
            u = state.users.get(e.userid)
            if u is not None and not u.deleted:
                contacts.append({"id": u.id, "fullname": u.fullname})
    options = [{"name": k, "value": v} for k, v in c.formatoptions.items()]
    return {
        "id": c.id, "fullname": c.fullname, "displayname": c.fullname, "shortname": c.shortname,
        "courseimage": call.url(f"/pluginfile.php/{c.id + 9}/course/generated/course.svg"),
        "categoryid": c.category, "categoryname": cat.name if cat else "", "sortorder": c.sortorder,
        "summary": c.summary, "summaryformat": c.summaryformat, "summaryfiles": [], "overviewfiles": [],
        "showactivitydates": True, "showcompletionconditions": True, "contacts": contacts,
        "enrollmentmethods": ["manual"], "idnumber": c.idnumber, "format": c.format, "showgrades": c.showgrades,
        "newsitems": c.newsitems, "startdate": c.startdate, "enddate": c.enddate, "maxbytes": c.maxbytes,
        "showreports": c.showreports, "visible": c.visible, "groupmode": c.groupmode,
        "groupmodeforce": c.groupmodeforce, "defaultgroupingid": c.defaultgroupingid,
        "enablecompletion": c.enablecompletion, "completionnotify": c.completionnotify, "lang": c.lang,
        "theme": c.theme, "marker": 0, "legacyfiles": 0, "calendartype": "", "timecreated": c.timecreated,
        "timemodified": c.timemodified, "requested": 0, "cacherev": c.cacherev,
        "filters": [{"filter": f, "localstate": 0, "inheritedstate": 1} for f in FILTERS],
        "courseformatoptions": options,
    }


@ws("core_course_get_courses_by_field")
def get_courses_by_field(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    field, value = p["field"], p["value"]
    found: list[r.Course]
    if field == "":
        found = sorted(state.courses, key=lambda c: c.id)
    elif field == "id":
        found = [c for c in [state.courses.get(_int(value))] if c is not None]
    elif field == "ids":
        ids = [_int(v) for v in str(value).split(",") if v.strip()]
        found = [c for c in (state.courses.get(i) for i in sorted(set(ids))) if c is not None]
    elif field == "shortname":
        found = state.courses.find("shortname", str(value))
    elif field == "idnumber":
        found = state.courses.find("idnumber", str(value)) if value != "" else []
    elif field == "category":
        found = sorted(state.courses.find("category", _int(value)), key=lambda c: c.sortorder)
    elif field == "sectionid":
        section = state.sections.get(_int(value))
        found = [state.courses.rows[section.course]] if section else []
    else:
        raise invalid_parameter("Invalid field name")
    return {"courses": [course_dict(call, c) for c in found], "warnings": []}


def _int(value: Any) -> int:
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return 0


def _apply_format_options(fields: dict[str, Any]) -> dict[str, Any]:
    options = {o["name"]: o["value"] for o in fields.pop("courseformatoptions", None) or []}
    return options


@ws("core_course_create_courses")
def create_courses(call: Call, p: dict[str, Any]) -> list[dict[str, Any]]:
    state = call.state
    out = []
    for item in call.records(p["courses"]):
        if state.categories.get(item["categoryid"]) is None:
            raise moodle_error("errorcatcontextnotvalid",
                               f"You cannot execute functions in the category context (category id: "
                               f"{item['categoryid']}). The context error message was: Invalid parameter value "
                               "detected")
        fmt = item["format"]
        if fmt not in COURSE_FORMATS:
            raise moodle_error("invalidcourseformat", f"Invalid course format: {fmt}")
        if state.courses.first("shortname", item["shortname"]) is not None:
            raise moodle_error("shortnametaken",
                               f"Short name is already used for another course ({item['shortname']})")
        idnumber = item.get("idnumber") or ""
        if idnumber and state.courses.first("idnumber", idnumber) is not None:
            raise moodle_error("courseidnumbertaken", f"ID number is already used for another course ({idnumber})")
        options = _apply_format_options(item)
        numsections = _int(options.pop("numsections", item.get("numsections", 0) or 0))
        settings: dict[str, Any] = {k: item[k] for k in ("summary", "summaryformat", "showgrades", "newsitems", "maxbytes",
                                         "showreports", "visible", "groupmode", "groupmodeforce",
                                         "defaultgroupingid", "enablecompletion", "completionnotify", "lang",
                                         "startdate", "enddate") if k in item}
        settings["theme"] = item.get("forcetheme") or ""
        settings.setdefault("enablecompletion", 1)
        crs = create_course(state, call.now, tz=call.tz, category=item["categoryid"], fullname=item["fullname"],
                            shortname=item["shortname"], idnumber=idnumber, numsections=max(0, numsections),
                            format=fmt, **settings)
        if "hiddensections" in item:
            options["hiddensections"] = item["hiddensections"]
        _merge_options(state, crs, options)
        out.append({"id": crs.id, "shortname": crs.shortname})
    return out


def _merge_options(state: State, crs: r.Course, options: dict[str, Any]) -> None:
    known = FORMAT_OPTIONS.get(crs.format, {})
    merged = dict(crs.formatoptions)
    for name, value in options.items():
        if name in known:
            merged[name] = _int(value) if isinstance(known[name], int) else str(value)
    if merged != crs.formatoptions:
        state.update("courses", crs, formatoptions=merged)


@ws("core_course_update_courses")
def update_courses(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    state = call.state
    warnings = []
    for item in call.records(p["courses"]):
        crs = state.courses.get(item["id"])
        try:
            if crs is None:
                raise moodle_error("invalidrecord", "Can't find data record in database table course.")
            _update_course(call, crs, dict(item))
        except Exception as exc:  # noqa: BLE001 - as Moodle: each course's failure, whatever it is, is a warning
            code = getattr(exc, "errorcode", "errorupdatingcourse")
            warnings.append({"item": "course", "itemid": item["id"], "warningcode": code,
                             "message": getattr(exc, "message", str(exc))})
    return {"warnings": warnings}


def _update_course(call: Call, crs: r.Course, item: dict[str, Any]) -> None:
    state = call.state
    item.pop("id")
    options = _apply_format_options(item)
    if "numsections" in item:
        options.setdefault("numsections", item.pop("numsections"))
    if "hiddensections" in item:
        options["hiddensections"] = item.pop("hiddensections")
    if ("shortname" in item and item["shortname"] != crs.shortname
            and state.courses.first("shortname", item["shortname"]) is not None):
        raise moodle_error("shortnametaken",
                           f"Short name is already used for another course ({item['shortname']})")
    if (item.get("idnumber") and item["idnumber"] != crs.idnumber
            and state.courses.first("idnumber", item["idnumber"]) is not None):
        raise moodle_error("courseidnumbertaken",
                           f"ID number is already used for another course ({item['idnumber']})")
    if "categoryid" in item:
        if state.categories.get(item["categoryid"]) is None:
            raise moodle_error("errorcatcontextnotvalid", "You cannot execute functions in the category context "
                               f"(category id: {item['categoryid']}).")
        item["category"] = item.pop("categoryid")
    if "forcetheme" in item:
        item["theme"] = item.pop("forcetheme")
    if "format" in item and item["format"] not in COURSE_FORMATS:
        raise moodle_error("invalidcourseformat", f"Invalid course format: {item['format']}")
    item.pop("customfields", None)
    changes = {k: v for k, v in item.items() if getattr(crs, k) != v}
    if changes:
        state.update("courses", crs, timemodified=call.now, **changes)
    numsections = options.pop("numsections", None)
    if numsections is not None:
        _ensure_sections(call, crs, _int(numsections))
    _merge_options(state, crs, options)


def _ensure_sections(call: Call, crs: r.Course, numsections: int) -> None:
    existing = {s.section for s in call.state.sections.find("course", crs.id)}
    for number in range(1, numsections + 1):
        if number not in existing:
            call.state.insert("sections", r.Section(id=0, course=crs.id, section=number, timemodified=call.now))


@ws("core_course_delete_courses")
def delete_courses(call: Call, p: dict[str, Any]) -> dict[str, Any]:
    warnings = []
    for courseid in p["courseids"]:
        crs = call.state.courses.get(courseid)
        if crs is None:
            warnings.append({"item": "course", "itemid": courseid, "warningcode": "unknowncourseidnumber",
                             "message": f"Unknown course ID {courseid}"})
            continue
        delete_course(call.state, crs)
    return {"warnings": warnings}
