"""Every error moodle_sync raises, in one family.

Moodle answers a failed web-service call with HTTP 200 and a body such as
``{"exception": ..., "errorcode": ..., "message": ..., "debuginfo": ...}``; :func:`from_moodle_error`
turns that body into the matching subclass of :class:`WebServiceError`. Transport failures
(timeouts, refused connections, 5xx, 429) are :class:`TransportError` subclasses.

No exception here ever carries the web-service token: messages are built from Moodle's answer and
our own text only, and :func:`redact` scrubs anything that slipped in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AccessDeniedError",
    "ConfigError",
    "ConnectionFailedError",
    "InputError",
    "InvalidParameterError",
    "InvalidResponseError",
    "InvalidTokenError",
    "MoodleSyncError",
    "NoCompletionCriteriaError",
    "NotEnrolledError",
    "PasswordPolicyError",
    "RateLimitedError",
    "RecordMissingError",
    "RequestShapeError",
    "RequestTimeoutError",
    "RunHaltedError",
    "ServerError",
    "ShortnameTakenError",
    "SiteUnreachableError",
    "TransportError",
    "WebServiceError",
    "WriteOutcomeUnknownError",
    "ends_the_run",
    "from_moodle_error",
    "mask_url",
    "redact",
]

_SECRETS: set[str] = set()


def register_secret(value: str | None) -> None:
    """Remember a secret (the token) so that :func:`redact` removes it from any text."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and any ``wstoken=...`` value masked."""
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return re.sub(r"(wstoken=)[^&\s\"']+", r"\1***", text)


_URL_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*://[^/?#:@]*):([^/?#]*)@")
_URL_SECRET_PARAM = re.compile(r"([?&#;](?:[^=&#]*(?:pass|token|secret|key)[^=&#]*)=)[^&#]*", re.IGNORECASE)


def mask_url(url: str) -> str:
    """``url`` as it may be shown: the password of ``scheme://user:password@host`` and the values of query
    parameters named like a secret (``password``, ``wstoken``, ``sslkey``...) replaced by ``***``.
    Works on malformed URLs too (it never raises)."""
    return _URL_SECRET_PARAM.sub(r"\1***", _URL_PASSWORD.sub(r"\1:***@", url))


class MoodleSyncError(Exception):
    """Base class of every error moodle_sync raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))

    @property
    def message(self) -> str:
        return str(self)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description for ``--json`` output (secrets redacted)."""
        return {k: redact(v) if isinstance(v, str) else v for k, v in self._fields().items()}

    def _fields(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": str(self)}


class ConfigError(MoodleSyncError):
    """The configuration is missing, unreadable or unsafe (e.g. a token written into the file)."""

    exit_code = 2


class InputError(MoodleSyncError):
    """Bad input from a file the user gave us; names the file, row/line and field where known."""

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.row, self.field = file, row, field
        where = ":".join(str(p) for p in (file, row) if p is not None)
        if field:
            where = f"{where}: {field}" if where else field
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "file": self.file, "row": self.row, "field": self.field,
                "reason": self.reason}


class RequestShapeError(MoodleSyncError):
    """We were about to send parameters that do not match the function's Moodle 4.5 signature.

    Raised before anything is sent; it is a bug in the caller, not a problem of the site.
    """

    exit_code = 3


class WebServiceError(MoodleSyncError):
    """Moodle answered a call with an exception body."""

    def __init__(self, function: str, errorcode: str, message: str, *, debuginfo: str | None = None,
                 exception: str | None = None) -> None:
        self.function = function
        self.errorcode = errorcode
        self.moodle_message = message
        self.debuginfo = debuginfo
        self.exception = exception
        text = f"{function}: {message} [{errorcode}]"
        if debuginfo:
            text += f" ({debuginfo.strip()})"
        super().__init__(text)

    def _fields(self) -> dict[str, Any]:
        return {**super()._fields(), "function": self.function, "errorcode": self.errorcode,
                "debuginfo": self.debuginfo}


class InvalidTokenError(WebServiceError):
    """The token is unknown, expired or missing (``invalidtoken``)."""


class AccessDeniedError(WebServiceError):
    """The function is not in the token's service, or the token user lacks a capability."""

    def __init__(self, function: str, errorcode: str, message: str, **kw: Any) -> None:
        super().__init__(function, errorcode, message, **kw)
        self.args = (redact(
            f"{function}: access denied [{errorcode}]: add '{function}' to the token's external service "
            f"(Site administration > Server > Web services > External services) or grant the token user "
            f"the capability it needs"),)


class InvalidParameterError(WebServiceError):
    """Moodle rejected the parameters (``invalidparameter``); the reason is only in ``debuginfo``."""


class RecordMissingError(WebServiceError):
    """A record Moodle looked up does not exist (``invalidrecord`` and friends)."""


class InvalidResponseError(WebServiceError):
    """Moodle produced a result that did not match the function's declared shape (``invalidresponse``)."""


class ShortnameTakenError(WebServiceError):
    """``core_course_create_courses``: another course already uses the shortname."""


class PasswordPolicyError(WebServiceError):
    """``core_user_create_users``: the password breaks the site's policy (errorcode is HTML in Moodle)."""


class NoCompletionCriteriaError(WebServiceError):
    """The course has no completion criteria (``nocriteriaset``)."""


class NotEnrolledError(WebServiceError):
    """The user is not enrolled in the course (``notenroled``)."""


class TransportError(MoodleSyncError):
    """The request did not get a usable answer from the server."""

    def __init__(self, function: str, message: str) -> None:
        self.function = function
        super().__init__(f"{function}: {message}")


class ConnectionFailedError(TransportError):
    """The site could not be reached (DNS, refused, TLS, connection dropped).

    ``sent`` is False when the request surely never reached the server (so even a write may be re-sent).
    """

    def __init__(self, function: str, message: str, *, sent: bool = True) -> None:
        super().__init__(function, message)
        self.sent = sent


class SiteUnreachableError(ConnectionFailedError):
    """The site cannot be reached at all: the connection was refused, the name does not resolve, or TLS
    failed. Nothing was sent, and neither a retry nor the next item can fare better: the run stops."""

    def __init__(self, function: str, message: str) -> None:
        super().__init__(function, message, sent=False)


class RequestTimeoutError(TransportError):
    """A read did not answer in time (after retries)."""


class WriteOutcomeUnknownError(TransportError):
    """A write was sent but no answer came back: it may or may not have happened.

    Never re-send blindly; read Moodle to find out.
    """


class ServerError(TransportError):
    """The server answered 5xx or something that is not a web-service answer."""


class RateLimitedError(TransportError):
    """The server answered 429 (too many requests) after all retries."""

    def __init__(self, function: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(function, message)
        self.retry_after = retry_after


class RunHaltedError(MoodleSyncError):
    """A call was refused without being sent because the run had already stopped: an earlier answer made
    the rest pointless (see :func:`ends_the_run`), or the user interrupted it. ``cause`` says which."""

    def __init__(self, function: str, cause: BaseException) -> None:
        self.function, self.cause = function, cause
        why = str(cause) if isinstance(cause, MoodleSyncError) else "interrupted"
        super().__init__(f"{function}: not sent: the run had stopped ({why})")


def ends_the_run(exc: BaseException) -> bool:
    """True for answers after which no other call of the run can succeed, so nothing more is sent: a wrong
    token (``invalidtoken``), a service that refuses the token (``accessexception``, Moodle's
    ``webservice_access_exception``), a site that cannot be reached (refused, DNS, TLS)."""
    if isinstance(exc, (InvalidTokenError, SiteUnreachableError, RunHaltedError)):
        return True
    return isinstance(exc, WebServiceError) and (
        exc.errorcode == "accessexception" or exc.exception == "webservice_access_exception")


_BY_ERRORCODE: dict[str, type[WebServiceError]] = {
    "invalidtoken": InvalidTokenError,
    "accessexception": AccessDeniedError,
    "nopermissions": AccessDeniedError,
    "requireloginerror": AccessDeniedError,
    "servicerequireslogin": AccessDeniedError,
    "invalidparameter": InvalidParameterError,
    "invalidrecord": RecordMissingError,
    "invalidrecordunknown": RecordMissingError,
    "invalidcourseid": RecordMissingError,
    "invaliduser": RecordMissingError,
    "invalidresponse": InvalidResponseError,
    "shortnametaken": ShortnameTakenError,
    "nocriteriaset": NoCompletionCriteriaError,
    "notenroled": NotEnrolledError,
    "usernotenroled": NotEnrolledError,
    "cannotviewreport": AccessDeniedError,
}

_TAG = re.compile(r"<[^>]+>")


def _strip_html(text: str) -> str:
    parts = [html.unescape(p).strip() for p in re.split(r"</div>|<br\s*/?>", text)]
    return " ".join(_TAG.sub("", p) for p in parts if _TAG.sub("", p).strip())


def from_moodle_error(function: str, body: Mapping[str, Any]) -> WebServiceError:
    """Map Moodle's exception body (REST JSON, or the pieces of a SOAP fault) to an exception."""
    errorcode = str(body.get("errorcode") or "")
    message = str(body.get("message") or "")
    debuginfo = body.get("debuginfo")
    exception = body.get("exception")
    if "<" in errorcode and ">" in errorcode:
        # A password-policy failure puts the policy, as HTML, into the errorcode.
        policy = _strip_html(errorcode)
        return PasswordPolicyError(function, "passwordpolicy", policy, debuginfo=debuginfo,
                                   exception=exception)
    cls = _BY_ERRORCODE.get(errorcode)
    if cls is None and exception and "dml_missing_record" in str(exception):
        cls = RecordMissingError
    return (cls or WebServiceError)(function, errorcode or "unknown", message, debuginfo=debuginfo,
                                    exception=exception)
