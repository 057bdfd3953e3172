"""Probes that need no token: is the site there, is TLS right, which web-service protocols answer.

Moodle's server.php answers HTTP 403 with an empty body when web services or that protocol are off,
and an ``invalidtoken`` error when they are on but no token is given.
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
        rest_on = rest.status_code != 403 and "exception" in rest.text
        soap = http.get(base + SOAP_PATH, params={"wsdl": "1"}, timeout=timeout, verify=verify)
        soap_on = soap.status_code != 403 and bool(soap.text.strip())
    except requests.exceptions.RequestException as exc:
        return SiteProbe(True, tls, f"web-service endpoints did not answer: {_short(exc)}")
    return SiteProbe(True, tls, detail, rest_on, soap_on)


def _short(exc: Exception) -> str:
    text = redact(str(exc))
    for marker in ("CERTIFICATE_VERIFY_FAILED", "Connection refused", "Name or service not known",
                   "Failed to resolve", "timed out"):
        if marker in text:
            return marker
    return text[:160]
