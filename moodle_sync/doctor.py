"""``doctor``: is this site, with this token and protocol, ready for moodle_sync?

Checks, in order: site reachable (and TLS), web services on, the chosen protocol enabled, token valid,
Moodle release (warn below 4.1, note LTS), the token user, and for each feature the functions missing
from the token's service, named exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .exceptions import AccessDeniedError, InvalidTokenError, MoodleSyncError
from .ws.functions import FEATURES, required_for
from .ws.probe import SiteProbe

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
LTS = {(4, 1), (4, 5), (5, 3)}


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    missing: tuple[str, ...] = ()


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

    def to_dict(self) -> dict[str, Any]:
        return {"url": self.url, "protocol": self.protocol, "ready": self.ready,
                "missing_functions": self.missing_functions,
                "checks": [{**asdict(c), "missing": list(c.missing)} for c in self.checks]}


def run_doctor(url: str, protocol: str, probe: Callable[[], SiteProbe], moodle: Callable[[], Any]) -> DoctorReport:
    """Run every check; later checks are skipped when an earlier one makes them meaningless.

    ``probe`` reaches the site without a token; ``moodle`` opens the typed client (it may raise
    :class:`~moodle_sync.exceptions.ConfigError` when no token is configured: that becomes a failed check).
    """
    report = DoctorReport(url, protocol)
    add = report.checks.append
    p = probe()
    tls_note = {"ok": "TLS verified", "off": "plain http: use https for a real site",
                "unverified": "TLS verification DISABLED", "failed": "TLS failed"}[p.tls]
    add(Check("site reachable", OK if p.reachable else FAIL,
              f"{p.detail}; {tls_note}", ))
    if not p.reachable:
        return _skip_rest(report, "site not reachable")
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
        return _skip_rest(report, f"{protocol} not enabled")
    try:
        info = moodle().site_info()
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
    version = info.major_minor
    lts = " (LTS)" if version in LTS else ""
    if version < (4, 1):
        add(Check("Moodle release", WARN, f"{info.release}: older than 4.1; moodle_sync is tested on 4.5 LTS"))
    else:
        add(Check("Moodle release", OK, f"{info.release}{lts}"))
    add(Check("token user", OK, f"{info.fullname} ({info.username}, id {info.userid})"
              + (", site administrator" if info.is_site_admin else "")))
    for feature, label in FEATURES.items():
        needed = required_for(feature)
        missing = tuple(f for f in needed if f not in info.functions)
        if missing:
            add(Check(f"functions for {feature}", FAIL,
                      f"{label}: add {len(missing)} function(s) to the token's service: {', '.join(missing)}",
                      missing))
        else:
            add(Check(f"functions for {feature}", OK, f"{label}: all {len(needed)} present"))
    return report


def _skip_rest(report: DoctorReport, why: str) -> DoctorReport:
    report.checks.append(Check("remaining checks", SKIP, f"skipped: {why}"))
    return report
