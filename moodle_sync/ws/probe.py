"""Probes that need no token: is the site there, is TLS right, which web-service protocols answer.

Moodle's server.php answers HTTP 403 with an empty body when web services or that protocol are off,
and an ``invalidtoken`` error when they are on but no token is given. ``moodle`` says whether the site
answered as a Moodle does at all (an error body from the REST endpoint, XML from the SOAP endpoint, both
endpoints' empty 403, or a Moodle session cookie); a plain web server answers none of these.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests

from ..exceptions import redact
from .rest import REST_PATH

SOAP_PATH = "/webservice/soap/server.php"


@dataclass(frozen=True)
class SiteProbe:
    reachable: bool
    tls: str                 # "ok", "off" (plain http), "unverified" (verification disabled), "failed"
    detail: str
    rest_enabled: bool | None = None
    soap_enabled: bool | None = None
    moodle: bool | None = None   # None: not known (not probed)
    signs: str = ""              # what the endpoints answered, for a site that is not a Moodle


def probe_site(url: str, *, verify: bool | str = True, timeout: float = 15.0,
               session: requests.Session | None = None) -> SiteProbe:
    """Reach the site's front page and both web-service endpoints without a token."""
    http = session or requests.Session()
    base = url.rstrip("/")
    tls = "off" if base.startswith("http://") else ("ok" if verify else "unverified")
    try:
        front = http.get(base + "/login/index.php", timeout=timeout, verify=verify, allow_redirects=True)
    except requests.exceptions.SSLError as exc:
        return SiteProbe(False, "failed", f"TLS certificate not accepted: {_short(exc)}")
    except requests.exceptions.RequestException as exc:
        return SiteProbe(False, tls, f"cannot reach {base}: {_short(exc)}")
    if front.status_code >= 500:
        return SiteProbe(False, tls, f"{base} answered HTTP {front.status_code}")
    detail = f"{base} answered HTTP {front.status_code}"
    try:
        rest = http.post(base + REST_PATH, data={"wsfunction": "core_webservice_get_site_info",
                                                  "moodlewsrestformat": "json"},
                         timeout=timeout, verify=verify)
        rest_on = _moodle_error_body(rest)
        soap = http.get(base + SOAP_PATH, params={"wsdl": "1"}, timeout=timeout, verify=verify)
        soap_on = _xml_body(soap)
    except requests.exceptions.RequestException as exc:
        return SiteProbe(True, tls, f"web-service endpoints did not answer: {_short(exc)}")
    off = all(r.status_code == 403 and not r.text.strip() for r in (rest, soap))
    moodle_cookie = any(c.name.startswith("MoodleSession") for c in http.cookies)
    signs = (f"login page HTTP {front.status_code}, REST endpoint HTTP {rest.status_code}, "
             f"SOAP endpoint HTTP {soap.status_code}, none as Moodle answers")
    return SiteProbe(True, tls, detail, rest_on, soap_on, moodle=rest_on or soap_on or off or moodle_cookie,
                     signs=signs)


def _moodle_error_body(answer: requests.Response) -> bool:
    """Moodle's REST endpoint without a token: HTTP 200 and an error body naming an ``errorcode``."""
    if answer.status_code == 403:
        return False
    try:
        body = answer.json()
    except ValueError:
        return "<EXCEPTION" in answer.text
    return isinstance(body, dict) and "errorcode" in body


def _xml_body(answer: requests.Response) -> bool:
    """Moodle's SOAP endpoint: a WSDL or a SOAP fault (XML), not an HTML page."""
    text = answer.text.lstrip()
    return answer.status_code != 403 and text.startswith("<") and "<html" not in text[:500].lower()


def _short(exc: Exception) -> str:
    text = redact(str(exc))
    for marker in ("CERTIFICATE_VERIFY_FAILED", "Connection refused", "Name or service not known",
                   "Failed to resolve", "timed out"):
        if marker in text:
            return marker
    return text[:160]
