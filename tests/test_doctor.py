"""``run_doctor`` with a fake probe and a fake site: which checks run, which are skipped, what is named.

The fake site answers ``core_enrol_get_enrolled_users_with_capability`` in the shape of its 4.5
``returns_desc`` (per capability: ``courseid``, ``capability``, ``users`` with ``id`` and ``fullname``),
holders ordered by id and paged with ``limitfrom``/``limitnumber`` as Moodle does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from moodle_sync.doctor import (
    CAPABILITY_FUNCTION,
    FAIL,
    OK,
    SKIP,
    WARN,
    held_capabilities,
    run_doctor,
    site_address,
)
from moodle_sync.exceptions import AccessDeniedError, ConfigError, InvalidParameterError, InvalidTokenError
from moodle_sync.requirements import CAPABILITY_NAMES, feature_requirements
from moodle_sync.ws.functions import FEATURES, FUNCTIONS, required_for
from moodle_sync.ws.moodle import SiteInfo
from moodle_sync.ws.probe import SiteProbe

URL = "https://lms.example.org"
REACHABLE = SiteProbe(True, "ok", "https://lms.example.org answered HTTP 200", rest_enabled=True, soap_enabled=False)
TOOL_USER = 7


def site(release: str = "4.5.6 (Build: 20250811)", functions: set[str] | None = None, admin: bool = True) -> SiteInfo:
    return SiteInfo(sitename="BGTK LMS", siteurl=URL, release=release, version="2024100706", username="wsuser",
                    userid=TOOL_USER, fullname="WS User", is_site_admin=admin,
                    functions=frozenset(FUNCTIONS if functions is None else functions))


def every_capability(protocol: str = "rest") -> list[str]:
    return sorted({c for f in [*FEATURES, "diagnosis"] for c in feature_requirements(f, (protocol,)).capability_names})


class FakeMoodle:
    """``site_info`` and the capability listing. ``holders`` maps a capability to the ids holding it at
    system level (default: the tool user and a few others hold everything); ``unknown`` are capabilities
    the site does not have (Moodle rejects the call: invalidparameter); ``error`` is raised by site_info."""

    def __init__(self, info: SiteInfo | None = None, error: Exception | None = None,
                 holders: Mapping[str, list[int]] | None = None, unknown: frozenset[str] = frozenset(),
                 listing_error: Exception | None = None) -> None:
        self.info, self.error, self.unknown, self.listing_error = info, error, unknown, listing_error
        self.holders = dict(holders) if holders is not None else {}
        self.calls: list[dict[str, Any]] = []

    def site_info(self) -> SiteInfo:
        if self.error is not None:
            raise self.error
        assert self.info is not None
        return self.info

    def call(self, function: str, params: Mapping[str, Any]) -> Any:
        assert function == CAPABILITY_FUNCTION
        self.calls.append(dict(params))
        if self.listing_error is not None:
            raise self.listing_error
        options = {o["name"]: o["value"] for o in params["options"]}
        start, count = int(options["limitfrom"]), int(options["limitnumber"])
        out = []
        for item in params["coursecapabilities"]:
            assert item["courseid"] == 1
            if set(item["capabilities"]) & self.unknown:
                raise InvalidParameterError(function, "invalidparameter", "Invalid parameter value detected")
            for capability in item["capabilities"]:
                ids = sorted(self.holders.get(capability, [2, 3, TOOL_USER, 40]))
                out.append({"courseid": 1, "capability": capability,
                            "users": [{"id": i, "fullname": f"User {i}"} for i in ids[start:start + count]]})
        return out


def doctor(probe: SiteProbe = REACHABLE, protocol: str = "rest", **moodle: Any) -> Any:
    opened: list[bool] = []

    def open_moodle() -> FakeMoodle:
        opened.append(True)
        return FakeMoodle(**moodle)

    report = run_doctor(URL, protocol, probe=lambda: probe, moodle=open_moodle)
    report.opened = bool(opened)  # type: ignore[attr-defined]
    return report


def statuses(report: Any) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def test_everything_present_is_ready() -> None:
    report = doctor(info=site())
    assert report.ready and report.missing_functions == []
    s = statuses(report)
    assert all(v == OK for v in s.values())
    assert [f"functions for {f}" for f in FEATURES] == [n for n in s if n.startswith("functions for")]
    assert "(LTS)" in next(c.detail for c in report.checks if c.name == "Moodle release")
    assert "site administrator" in next(c.detail for c in report.checks if c.name == "token user")
    doc = report.to_dict()
    assert doc["ready"] is True and doc["url"] == URL and doc["protocol"] == "rest"
    assert all(c["missing"] == [] for c in doc["checks"])


def test_each_missing_function_is_named_under_its_feature() -> None:
    gone = {"gradereport_user_get_grade_items", "enrol_manual_unenrol_users"}
    report = doctor(info=site(functions=set(FUNCTIONS) - gone))
    assert not report.ready
    assert report.missing_functions == sorted(gone)
    by_name = {c.name: c for c in report.checks}
    assert by_name["functions for completion"].status == FAIL
    assert by_name["functions for completion"].missing == ("gradereport_user_get_grade_items",)
    assert by_name["functions for enrolment"].missing == ("enrol_manual_unenrol_users",)
    assert "add 1 function(s)" in by_name["functions for enrolment"].detail
    assert by_name["functions for provisioning"].status == OK
    assert report.to_dict()["missing_functions"] == sorted(gone)


def test_a_function_needed_by_two_features_is_listed_once() -> None:
    shared = "core_course_get_courses_by_field"
    assert len(FUNCTIONS[shared].features) > 1
    report = doctor(info=site(functions=set(FUNCTIONS) - {shared}))
    assert report.missing_functions == [shared]
    failing = [c.name for c in report.checks if c.status == FAIL]
    assert failing == [f"functions for {f}" for f in FEATURES if shared in required_for(f)]


def test_an_old_release_is_a_warning_not_a_failure() -> None:
    report = doctor(info=site(release="3.11.4 (Build: 20211108)"))
    assert statuses(report)["Moodle release"] == WARN
    assert report.ready
    assert "(LTS)" not in next(c.detail for c in report.checks if c.name == "Moodle release")


@pytest.mark.parametrize("probe,why", [
    (SiteProbe(False, "failed", "TLS certificate not accepted: CERTIFICATE_VERIFY_FAILED"), "site not reachable"),
    (SiteProbe(False, "ok", "cannot reach https://lms.example.org: Connection refused"), "site not reachable"),
])
def test_an_unreachable_site_skips_everything_else(probe: SiteProbe, why: str) -> None:
    report = doctor(probe=probe, info=site())
    assert [c.status for c in report.checks] == [FAIL, SKIP]
    assert why in report.checks[-1].detail
    assert not report.ready and not report.opened  # no token is used on a site that is not there


def test_web_services_off() -> None:
    report = doctor(probe=SiteProbe(True, "ok", "answered", rest_enabled=False, soap_enabled=False), info=site())
    s = statuses(report)
    assert s["web services enabled"] == FAIL and s["REST protocol enabled"] == FAIL
    assert s["remaining checks"] == SKIP and not report.opened


def test_the_chosen_protocol_off() -> None:
    report = doctor(protocol="soap", info=site())   # REACHABLE has REST on, SOAP off
    s = statuses(report)
    assert s["web services enabled"] == OK and s["SOAP protocol enabled"] == FAIL
    assert "Manage protocols" in next(c.detail for c in report.checks if c.name == "SOAP protocol enabled")
    assert not report.ready and not report.opened


@pytest.mark.parametrize("error,detail,missing", [
    (InvalidTokenError("core_webservice_get_site_info", "invalidtoken", "Invalid token - token not found"),
     "Invalid token - token not found", ()),
    (AccessDeniedError("core_webservice_get_site_info", "accessexception", "Access control exception"),
     "core_webservice_get_site_info", ("core_webservice_get_site_info",)),
    (ConfigError("no web-service token: set MOODLE_TOKEN"), "MOODLE_TOKEN", ()),
])
def test_token_problems_stop_the_checks(error: Exception, detail: str, missing: tuple[str, ...]) -> None:
    report = doctor(error=error)
    token = next(c for c in report.checks if c.name == "token valid")
    assert token.status == FAIL and detail in token.detail and token.missing == missing
    assert report.checks[-1].status == SKIP
    assert report.missing_functions == list(missing)
    assert not any(c.name.startswith("functions for") for c in report.checks)


def test_probe_and_site_are_only_asked_once() -> None:
    calls: list[str] = []

    def probe() -> SiteProbe:
        calls.append("probe")
        return REACHABLE

    def moodle() -> FakeMoodle:
        calls.append("moodle")
        return FakeMoodle(site())

    assert run_doctor(URL, "rest", probe=probe, moodle=moodle).ready
    assert calls == ["probe", "moodle"]


def checks_named(report: Any, prefix: str) -> dict[str, Any]:
    return {c.name: c for c in report.checks if c.name.startswith(prefix)}


def test_a_role_holding_every_listed_capability_is_ready() -> None:
    report = doctor(info=site(admin=False))
    caps = checks_named(report, "capabilities for")
    assert list(caps) == [f"capabilities for {f}" for f in FEATURES]
    assert all(c.status == OK for c in caps.values()) and report.ready
    assert report.missing_capabilities == [] and report.to_dict()["missing_capabilities"] == []


def test_each_missing_capability_is_named_with_its_title_under_each_feature_needing_it() -> None:
    lacking = {"moodle/course:create": [2, 3], "report/completion:view": [2, 40], "moodle/course:managegroups": [3]}
    report = doctor(info=site(admin=False), holders=lacking)
    caps = checks_named(report, "capabilities for")
    assert caps["capabilities for core"].status == OK
    assert caps["capabilities for provisioning"].capabilities == ("moodle/course:create",
                                                                  "moodle/course:managegroups")
    assert "moodle/course:create (Create courses)" in caps["capabilities for provisioning"].detail
    assert caps["capabilities for enrolment"].capabilities == ("moodle/course:managegroups",)
    assert caps["capabilities for completion"].capabilities == ("moodle/course:managegroups",
                                                                "report/completion:view")
    assert "report/completion:view (View course completion report)" in caps["capabilities for completion"].detail
    assert not report.ready and report.missing_capabilities == sorted(lacking)
    assert "hides other users" not in caps["capabilities for completion"].detail


def test_without_viewdetails_doctor_says_its_answer_may_be_too_long() -> None:
    report = doctor(info=site(admin=False), holders={"moodle/user:viewdetails": [2]})
    enrolment = checks_named(report, "capabilities for")["capabilities for enrolment"]
    assert enrolment.status == FAIL and enrolment.capabilities == ("moodle/user:viewdetails",)
    assert "hides other users" in enrolment.detail


def test_the_checked_protocol_is_the_one_in_use() -> None:
    holders = {"webservice/soap:use": [2]}
    assert checks_named(doctor(info=site(admin=False), holders=holders),
                        "capabilities for")["capabilities for core"].status == OK
    soap = SiteProbe(True, "ok", "answered", rest_enabled=False, soap_enabled=True, moodle=True)
    core = checks_named(doctor(probe=soap, protocol="soap", info=site(admin=False), holders=holders),
                        "capabilities for")["capabilities for core"]
    assert core.status == FAIL and core.capabilities == ("webservice/soap:use",)


def test_a_site_administrator_is_not_listed_but_holds_everything() -> None:
    fake = FakeMoodle(site(admin=True), holders={c: [2] for c in every_capability()})
    report = run_doctor(URL, "rest", probe=lambda: REACHABLE, moodle=lambda: fake)
    assert report.ready and fake.calls == []
    assert next(c for c in report.checks if c.name == "capabilities").status == OK


def test_without_the_listing_function_the_check_is_a_warning_naming_what_to_add() -> None:
    report = doctor(info=site(admin=False, functions=set(FUNCTIONS) - {CAPABILITY_FUNCTION}),
                    holders={"moodle/course:create": []})
    check = next(c for c in report.checks if c.name == "capabilities")
    assert check.status == WARN and CAPABILITY_FUNCTION in check.detail
    assert "moodle/site:viewparticipants" in check.detail and "moodle/role:review" in check.detail
    assert report.ready and not checks_named(report, "capabilities for")


def test_a_user_who_may_not_list_holders_gets_a_warning_naming_the_two_capabilities() -> None:
    refused = AccessDeniedError(CAPABILITY_FUNCTION, "nopermissions",
                                "Sorry, but you do not currently have permissions to do that (View participants).")
    report = doctor(info=site(admin=False), listing_error=refused)
    check = next(c for c in report.checks if c.name == "capabilities")
    assert check.status == WARN and report.ready
    assert "moodle/site:viewparticipants (View participants)" in check.detail
    assert "moodle/role:review (Review permissions for others)" in check.detail
    assert "View participants)." in check.detail   # Moodle's own words


def test_a_module_the_site_does_not_have_is_left_out_not_reported_missing() -> None:
    fake = FakeMoodle(site(admin=False), unknown=frozenset({"mod/chat:view"}))
    report = run_doctor(URL, "rest", probe=lambda: REACHABLE, moodle=lambda: fake)
    assert report.ready and "mod/chat:view" not in report.missing_capabilities
    completion = checks_named(report, "capabilities for")["capabilities for completion"]
    assert completion.status == OK and "not on this site: mod/chat:view" in completion.detail


def test_holders_are_paged_only_until_the_token_user_is_found_or_passed() -> None:
    everyone = list(range(1, 1001))
    fake = FakeMoodle(holders={"a/held:late": everyone, "b/missing:many": [i for i in everyone if i != 450],
                               "c/missing:few": [2, 3], "d/held:first": [450]})
    held, unknown = held_capabilities(fake.call, 450, ["a/held:late", "b/missing:many", "c/missing:few",
                                                        "d/held:first"], page=100)
    assert held == {"a/held:late", "d/held:first"} and unknown == set()
    asked = [sorted(c["coursecapabilities"][0]["capabilities"]) for c in fake.calls]
    assert asked[0] == ["a/held:late", "b/missing:many", "c/missing:few", "d/held:first"]
    # A short page may be short because Moodle hid users from the token user, so one more page is asked.
    assert asked[1] == ["a/held:late", "b/missing:many", "c/missing:few"]
    assert asked[2:] == [["a/held:late", "b/missing:many"]] * 3   # page 5 holds 450 or passes it
    assert [c["options"][0]["value"] for c in fake.calls] == ["0", "100", "200", "300", "400"]


def test_holders_are_read_asking_only_for_ids() -> None:
    fake = FakeMoodle(holders={"x/y:z": [TOOL_USER]})
    held_capabilities(fake.call, TOOL_USER, ["x/y:z"])
    assert {"name": "userfields", "value": "id"} in fake.calls[0]["options"]


@pytest.mark.parametrize("url,base,stripped", [
    ("https://lms.example.org", "https://lms.example.org", ""),
    ("https://lms.example.org/", "https://lms.example.org", ""),
    ("https://host.example/moodle", "https://host.example/moodle", ""),
    ("https://host.example/moodle/", "https://host.example/moodle", ""),
    ("https://host.example/moodle/login/index.php", "https://host.example/moodle", "/login/index.php"),
    ("https://host.example/login/index.php?loginredirect=1", "https://host.example", "/login/index.php?loginredirect=1"),
    ("https://host.example/my/", "https://host.example", "/my/"),
    ("https://host.example/my/courses.php", "https://host.example", "/my/courses.php"),
    ("https://host.example/course/view.php?id=12", "https://host.example", "/course/view.php?id=12"),
    ("https://host.example/lms/admin/settings.php?section=webservices", "https://host.example/lms",
     "/admin/settings.php?section=webservices"),
    ("https://host.example/admin/", "https://host.example", "/admin/"),
    ("https://host.example/index.php", "https://host.example", "/index.php"),
    ("https://host.example/webservice/rest/server.php", "https://host.example", "/webservice/rest/server.php"),
    ("https://host.example/mod/quiz/view.php?id=4", "https://host.example", "/mod/quiz/view.php?id=4"),
    ("https://host.example/courses", "https://host.example/courses", ""),
])
def test_site_address_strips_only_moodle_page_paths(url: str, base: str, stripped: str) -> None:
    assert site_address(url) == (base, stripped)


def test_a_url_with_a_page_path_fails_names_the_address_and_does_not_use_the_token() -> None:
    url = "https://lms.example.org/moodle/login/index.php"
    report = run_doctor(url, "rest", probe=lambda: REACHABLE, moodle=lambda: pytest.fail("token used"))
    address = report.checks[0]
    assert address.name == "site address" and address.status == FAIL
    assert "/login/index.php" in address.detail and "https://lms.example.org/moodle:" in address.detail
    assert statuses(report)["REST protocol enabled"] == OK   # the stripped address was probed
    assert report.checks[-1].status == SKIP and "site address" in report.checks[-1].detail
    assert not report.ready


def test_not_a_moodle_site_says_so_instead_of_enable_rest() -> None:
    plain = SiteProbe(True, "ok", "https://lms.example.org answered HTTP 200", rest_enabled=False,
                      soap_enabled=False, moodle=False, signs="login page HTTP 404, REST endpoint HTTP 404")
    report = doctor(probe=plain, info=site())
    moodle = next(c for c in report.checks if c.name == "Moodle site")
    assert moodle.status == FAIL and "is not a Moodle site" in moodle.detail and "HTTP 404" in moodle.detail
    assert not any("enable" in c.detail.lower() for c in report.checks)
    assert [c.status for c in report.checks] == [OK, FAIL, SKIP] and not report.opened


def test_capability_titles_cover_every_capability_doctor_can_name() -> None:
    assert set(every_capability("rest")) | set(every_capability("soap")) <= set(CAPABILITY_NAMES)
