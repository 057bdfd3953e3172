"""``run_doctor`` with a fake probe and a fake site: which checks run, which are skipped, what is named."""

from __future__ import annotations

from typing import Any

import pytest

from moodle_sync.doctor import FAIL, OK, SKIP, WARN, run_doctor
from moodle_sync.exceptions import AccessDeniedError, ConfigError, InvalidTokenError
from moodle_sync.ws.functions import FEATURES, FUNCTIONS, required_for
from moodle_sync.ws.moodle import SiteInfo
from moodle_sync.ws.probe import SiteProbe

URL = "https://lms.example.org"
REACHABLE = SiteProbe(True, "ok", "https://lms.example.org answered HTTP 200", rest_enabled=True, soap_enabled=False)


def site(release: str = "4.5.6 (Build: 20250811)", functions: set[str] | None = None, admin: bool = True) -> SiteInfo:
    return SiteInfo(sitename="BGTK LMS", siteurl=URL, release=release, version="2024100706", username="wsuser",
                    userid=7, fullname="WS User", is_site_admin=admin,
                    functions=frozenset(FUNCTIONS if functions is None else functions))


class FakeMoodle:
    def __init__(self, info: SiteInfo | None = None, error: Exception | None = None) -> None:
        self.info, self.error = info, error

    def site_info(self) -> SiteInfo:
        if self.error is not None:
            raise self.error
        assert self.info is not None
        return self.info


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
