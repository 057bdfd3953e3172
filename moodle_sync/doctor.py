"""``doctor``: is this site, with this token and protocol, ready for moodle_sync?

Checks, in order: the site address (a page path such as ``/login/index.php`` is named and stripped), site
reachable (and TLS), a Moodle site at all, web services on, the chosen protocol enabled, token valid,
Moodle release (warn below 4.1, note LTS), the token user, for each feature the functions missing from the
token's service, and for each feature the capabilities the token user's role lacks (read with
``core_enrol_get_enrolled_users_with_capability``; see :mod:`moodle_sync.requirements`), named exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .exceptions import AccessDeniedError, InvalidParameterError, InvalidTokenError, MoodleSyncError
from .requirements import CAPABILITY_NAMES, DIAGNOSIS, feature_requirements
from .ws.functions import FEATURES, required_for
from .ws.moodle import SiteInfo
from .ws.probe import SiteProbe

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
LTS = {(4, 1), (4, 5), (5, 3)}

CAPABILITY_FUNCTION = "core_enrol_get_enrolled_users_with_capability"
SITE_COURSE_ID = 1          # the front page: for it Moodle checks in the system context
CAPABILITY_PAGE = 200       # users per capability per call while looking for the token user

# Paths of Moodle pages (not of a Moodle in a subfolder) that people paste into MOODLE_URL.
PAGE_PATH = re.compile(
    r"/(?:login(?:/[\w.-]*)?|my(?:/[\w.-]*)?|admin(?:/.*)?|index\.php"
    r"|(?:course|user|grade|enrol|group|calendar|message|badges|cohort|report|blocks)/[\w/.-]*\.php"
    r"|mod/\w+/[\w.-]*\.php|webservice/(?:rest|soap)/server\.php)/?$")


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    missing: tuple[str, ...] = ()        # web-service functions to add to the service
    capabilities: tuple[str, ...] = ()   # capabilities to give the token user's role


@dataclass
class DoctorReport:
    url: str
    protocol: str
    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c.status in (OK, WARN) for c in self.checks)

    @property
    def missing_functions(self) -> list[str]:
        return sorted({f for c in self.checks for f in c.missing})

    @property
    def missing_capabilities(self) -> list[str]:
        return sorted({cap for c in self.checks for cap in c.capabilities})

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "protocol": self.protocol, "ready": self.ready,
                "missing_functions": self.missing_functions,
                "missing_capabilities": self.missing_capabilities,
                "checks": [{**asdict(c), "missing": list(c.missing), "capabilities": list(c.capabilities)}
                           for c in self.checks]}


def site_address(url: str) -> tuple[str, str]:
    """``(base, stripped)``: the site address without a trailing Moodle page path, query or fragment, and
    what was stripped ("" when nothing was). A Moodle in a subfolder (``https://host/moodle``) is kept."""
    text = url.strip()
    parts = urlsplit(text)
    match = PAGE_PATH.search(parts.path)
    base_path = (parts.path[:match.start()] if match else parts.path).rstrip("/")
    base = urlunsplit((parts.scheme, parts.netloc, base_path, "", ""))
    stripped = text[len(base):] if text.startswith(base) else ""
    return base, "" if stripped.strip("/") == "" else stripped


def run_doctor(url: str, protocol: str, probe: Callable[[], SiteProbe], moodle: Callable[[], Any]) -> DoctorReport:
    """Run every check; later checks are skipped when an earlier one makes them meaningless.

    ``probe`` reaches the site (at :func:`site_address` of ``url``) without a token; ``moodle`` opens the
    typed client (it may raise :class:`~moodle_sync.exceptions.ConfigError` when no token is configured:
    that becomes a failed check).
    """
    report = DoctorReport(url, protocol)
    add = report.checks.append
    base, page = site_address(url)
    if page:
        add(Check("site address", FAIL, f"{url} has a page path ({page}); the site address is {base}: set "
                  f"MOODLE_URL (or --url, or url in the config file) to it"))
    if not _site_checks(report, base, protocol, probe()):
        return report
    if page:
        return _skip_rest(report, "fix the site address first")
    try:
        client = moodle()
        info = client.site_info()
    except InvalidTokenError as exc:
        add(Check("token valid", FAIL, f"Moodle says: {exc.moodle_message}"))
        return _skip_rest(report, "token invalid")
    except AccessDeniedError:
        add(Check("token valid", FAIL, "the token's service does not include core_webservice_get_site_info",
                  ("core_webservice_get_site_info",)))
        return _skip_rest(report, "cannot read site info")
    except MoodleSyncError as exc:
        add(Check("token valid", FAIL, str(exc)))
        return _skip_rest(report, "cannot read site info")
    add(Check("token valid", OK, f"site '{info.sitename}'"))
    report.checks.extend(_site_info_checks(info))
    report.checks.extend(_function_checks(info))
    report.checks.extend(capability_checks(client.call, info, protocol))
    return report


def _site_checks(report: DoctorReport, base: str, protocol: str, p: SiteProbe) -> bool:
    """Reachable, a Moodle, web services and the protocol on; False (rest skipped) when one is not."""
    add = report.checks.append
    tls_note = {"ok": "TLS verified", "off": "plain http: use https for a real site",
                "unverified": "TLS verification DISABLED", "failed": "TLS failed"}[p.tls]
    add(Check("site reachable", OK if p.reachable else FAIL, f"{p.detail}; {tls_note}"))
    if not p.reachable:
        _skip_rest(report, "site not reachable")
        return False
    if p.moodle is False:
        add(Check("Moodle site", FAIL, f"{base} is not a Moodle site ({p.signs}): the site address must be "
                                       f"Moodle's own address (its wwwroot, e.g. https://host or https://host/moodle)"))
        _skip_rest(report, "not a Moodle site")
        return False
    enabled = {"rest": p.rest_enabled, "soap": p.soap_enabled}
    any_on = bool(p.rest_enabled or p.soap_enabled)
    add(Check("web services enabled", OK if any_on else FAIL,
              "web services answer" if any_on else
              "both endpoints answer 403: enable web services (Site administration > Advanced features) "
              "and a protocol (Server > Web services > Manage protocols)"))
    on = enabled[protocol]
    add(Check(f"{protocol.upper()} protocol enabled", OK if on else FAIL,
              f"{protocol} endpoint answers" if on else
              f"enable {protocol.upper()} in Site administration > Server > Web services > Manage protocols"))
    if not on:
        _skip_rest(report, f"{protocol} not enabled")
        return False
    return True


def _site_info_checks(info: SiteInfo) -> list[Check]:
    version = info.major_minor
    lts = " (LTS)" if version in LTS else ""
    if version < (4, 1):
        release = Check("Moodle release", WARN, f"{info.release}: older than 4.1; moodle_sync is tested on 4.5 LTS")
    else:
        release = Check("Moodle release", OK, f"{info.release}{lts}")
    return [release, Check("token user", OK, f"{info.fullname} ({info.username}, id {info.userid})"
                           + (", site administrator" if info.is_site_admin else ""))]


def _function_checks(info: SiteInfo) -> list[Check]:
    checks = []
    for feature, label in FEATURES.items():
        needed = required_for(feature)
        missing = tuple(f for f in needed if f not in info.functions)
        if missing:
            checks.append(Check(f"functions for {feature}", FAIL, f"{label}: add {len(missing)} function(s) to "
                                f"the token's service: {', '.join(missing)}", missing))
        else:
            checks.append(Check(f"functions for {feature}", OK, f"{label}: all {len(needed)} present"))
    return checks


def capability_checks(call: Callable[[str, Mapping[str, Any]], Any], info: SiteInfo, protocol: str) -> list[Check]:
    """Per feature, the capabilities the token user lacks at system level (FAIL, each named).

    A site administrator holds every capability. When the check itself is impossible (the function is not
    in the service, or the user may not list who holds a capability) the answer is one WARN saying what to
    add, never a failure.
    """
    if info.is_site_admin:
        return [Check("capabilities", OK, "site administrator: holds every capability")]
    helper = ", ".join(_titled(c) for c in feature_requirements(DIAGNOSIS).capability_names)
    if CAPABILITY_FUNCTION not in info.functions:
        return [Check("capabilities", WARN, f"not checked: add {CAPABILITY_FUNCTION} to the token's service "
                      f"(and give its role {helper}) so doctor can check the role")]
    needs = {f: feature_requirements(f, (protocol,)) for f in FEATURES}
    wanted = sorted({c for r in needs.values() for c in r.capability_names})
    try:
        held, unknown = held_capabilities(call, info.userid, wanted)
    except AccessDeniedError as exc:
        return [Check("capabilities", WARN, f"not checked: give the token user's role {helper} so doctor can "
                      f"check it (Moodle says: {exc.moodle_message})")]
    except MoodleSyncError as exc:
        return [Check("capabilities", WARN, f"not checked: {exc}")]
    hidden = "moodle/user:viewdetails" not in held
    return [_feature_capability_check(feature, r.capability_names, held, unknown, hidden)
            for feature, r in needs.items()]


def _feature_capability_check(feature: str, needed: Iterable[str], held: set[str], unknown: set[str],
                              hidden: bool) -> Check:
    label = FEATURES[feature]
    needed = [c for c in needed if c not in unknown]
    missing = tuple(c for c in needed if c not in held)
    if not missing:
        absent = sorted(set(feature_requirements(feature).capability_names) & unknown)
        note = f" ({len(absent)} not on this site: {', '.join(absent)})" if absent else ""
        return Check(f"capabilities for {feature}", OK, f"{label}: all {len(needed)} held{note}")
    detail = (f"{label}: give the token user's role {len(missing)} capability(ies): "
              + ", ".join(_titled(c) for c in missing))
    if hidden:
        detail += (" (without moodle/user:viewdetails Moodle hides other users from this check, so a few of "
                   "these may be held: add it and run doctor again)")
    return Check(f"capabilities for {feature}", FAIL, detail, capabilities=missing)


def _titled(capability: str) -> str:
    return f"{capability} ({CAPABILITY_NAMES.get(capability, '?')})"


def held_capabilities(call: Callable[[str, Mapping[str, Any]], Any], userid: int, capabilities: Iterable[str],
                      page: int = CAPABILITY_PAGE) -> tuple[set[str], set[str]]:
    """``(held, unknown)``: which ``capabilities`` user ``userid`` holds at system level, and which this
    site does not know (a module that is not installed).

    Moodle lists a capability's holders ordered by id, ``page`` at a time; a capability stops being asked
    for as soon as the user is listed or a page passes the user's id. Raises the call's errors
    (:class:`AccessDeniedError` when the token user may not list holders).
    """
    held: set[str] = set()
    unknown: set[str] = set()
    pending = list(dict.fromkeys(capabilities))
    offset = 0
    while pending:
        listed, bad = _holders(call, pending, offset, page)
        unknown |= bad
        held |= {c for c, ids in listed.items() if userid in ids}
        pending = [c for c, ids in listed.items() if userid not in ids and ids and max(ids) < userid]
        offset += page
    return held, unknown


def _holders(call: Callable[[str, Mapping[str, Any]], Any], capabilities: list[str], offset: int,
             page: int) -> tuple[dict[str, list[int]], set[str]]:
    """One page of holders per capability; a capability the site does not know makes Moodle reject the
    whole call (``invalidparameter``), so the list is halved until that one is found."""
    params = {"coursecapabilities": [{"courseid": SITE_COURSE_ID, "capabilities": capabilities}],
              "options": [{"name": "limitfrom", "value": str(offset)}, {"name": "limitnumber", "value": str(page)},
                          {"name": "userfields", "value": "id"}]}
    try:
        answer = call(CAPABILITY_FUNCTION, params)
    except InvalidParameterError:
        if len(capabilities) == 1:
            return {}, set(capabilities)
        half = len(capabilities) // 2
        first, bad_first = _holders(call, capabilities[:half], offset, page)
        second, bad_second = _holders(call, capabilities[half:], offset, page)
        return {**first, **second}, bad_first | bad_second
    return {str(e["capability"]): [int(u["id"]) for u in e.get("users") or []] for e in answer or []}, set()


def _skip_rest(report: DoctorReport, why: str) -> DoctorReport:
    report.checks.append(Check("remaining checks", SKIP, f"skipped: {why}"))
    return report


__all__ = [
    "FAIL",
    "OK",
    "SKIP",
    "WARN",
    "Check",
    "DoctorReport",
    "capability_checks",
    "held_capabilities",
    "run_doctor",
    "site_address",
]
