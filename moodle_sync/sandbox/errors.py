"""The errors the fake Moodle raises, shaped like Moodle's own exception bodies.

:class:`SandboxMoodleError` carries exactly what a REST error body carries (``exception``,
``errorcode``, ``message``, ``debuginfo``); the REST and SOAP endpoints turn it into their wire
format. The helpers below build the errors real Moodle 4.5 raises, with its exact messages;
:class:`RecordFailure` is a failure a test injects (``control.fail_record``) for matching records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MOODLE_EXCEPTION = "core\\exception\\moodle_exception"
INVALID_PARAMETER = "core\\exception\\invalid_parameter_exception"
INVALID_RESPONSE = "core\\exception\\invalid_response_exception"
REQUIRED_CAPABILITY = "core\\exception\\required_capability_exception"  # get_class() names the 4.5 class
ACCESS_EXCEPTION = "webservice_access_exception"
MISSING_RECORD = "dml_missing_record_exception"

ACCESS_DEBUGINFO = """Access to the function {function}() is not allowed.
                     There could be multiple reasons for this:
                     1. The service linked to the user token does not contain the function.
                     2. The service is user-restricted and the user is not listed.
                     3. The service is IP-restricted and the user IP is not listed.
                     4. The service is time-restricted and the time has expired.
                     5. The token is time-restricted and the time has expired.
                     6. The service requires a specific capability which the user does not have.
                     7. The function is called with username/password (no user token is sent)
                     and none of the services has the function to allow the user.
                     These settings can be found in Administration > Site administration
                     > Server > Web services > External services and Manage tokens."""


class SandboxMoodleError(Exception):
    """A web-service call failed the way Moodle fails it (HTTP 200 with an exception body)."""

    def __init__(self, exception: str, errorcode: str, message: str, debuginfo: str | None = None) -> None:
        super().__init__(f"{errorcode}: {message}")
        self.exception = exception
        self.errorcode = errorcode
        self.message = message
        self.debuginfo = debuginfo

    def body(self, *, debug: bool) -> dict[str, Any]:
        """The REST JSON body; ``debuginfo`` only when the site runs with debugging on."""
        out: dict[str, Any] = {"exception": self.exception, "errorcode": self.errorcode, "message": self.message}
        if debug and self.debuginfo is not None:
            out["debuginfo"] = self.debuginfo
        return out


def moodle_error(errorcode: str, message: str, debuginfo: str | None = None) -> SandboxMoodleError:
    """A plain ``moodle_exception``."""
    return SandboxMoodleError(MOODLE_EXCEPTION, errorcode, message, debuginfo)


def invalid_parameter(debuginfo: str) -> SandboxMoodleError:
    """``invalid_parameter_exception``: the reason is only in ``debuginfo``, as in Moodle."""
    return SandboxMoodleError(INVALID_PARAMETER, "invalidparameter", "Invalid parameter value detected", debuginfo)


def invalid_response(debuginfo: str) -> SandboxMoodleError:
    """``invalid_response_exception``: the function's result did not match its declared shape."""
    return SandboxMoodleError(INVALID_RESPONSE, "invalidresponse", "Invalid response value detected", debuginfo)


def missing_record(table: str, debuginfo: str | None = None) -> SandboxMoodleError:
    """``dml_missing_record_exception`` for a ``MUST_EXIST`` lookup in ``table``."""
    return SandboxMoodleError(MISSING_RECORD, "invalidrecord",
                              f"Can't find data record in database table {table}.", debuginfo)


def required_capability(capability_name: str) -> SandboxMoodleError:
    """``required_capability_exception`` (lang/en/error.php ``nopermissions``) for a capability's display name."""
    return SandboxMoodleError(REQUIRED_CAPABILITY, "nopermissions",
                              f"Sorry, but you do not currently have permissions to do that ({capability_name}).")


def invalid_token() -> SandboxMoodleError:
    return moodle_error("invalidtoken", "Invalid token - token not found")


def access_denied(function: str) -> SandboxMoodleError:
    return SandboxMoodleError(ACCESS_EXCEPTION, "accessexception", "Access control exception",
                              ACCESS_DEBUGINFO.format(function=function))


def unknown_function(function: str) -> SandboxMoodleError:
    return missing_record("external_functions",
                          f"SELECT * FROM {{external_functions}} WHERE name = ?\n[array (\n  0 => '{function}',\n)]")


@dataclass
class RecordFailure:
    """An injected failure for batch records of ``function`` whose fields equal ``match``."""

    function: str
    match: dict[str, Any]
    errorcode: str
    message: str
    debuginfo: str | None = None
    times: int | None = None  # None: every time

    def matches(self, record: Mapping[str, Any]) -> bool:
        """Whether ``record`` holds every field of ``match`` (1 and True, 2 and 2.0 alike) and uses are left."""
        if self.times is not None and self.times <= 0:
            return False
        return all(k in record and str(_plain(record[k])) == str(_plain(v)) for k, v in self.match.items())

    def used(self) -> None:
        """Count one use against ``times``."""
        if self.times is not None:
            self.times -= 1

    def error(self) -> SandboxMoodleError:
        """The error Moodle would raise: ``invalid_parameter_exception`` for ``invalidparameter``, else a
        ``moodle_exception``."""
        if self.errorcode == "invalidparameter":
            return SandboxMoodleError(INVALID_PARAMETER, "invalidparameter", "Invalid parameter value detected",
                                      self.debuginfo or self.message)
        return SandboxMoodleError(MOODLE_EXCEPTION, self.errorcode, self.message, self.debuginfo)


def _plain(value: Any) -> Any:
    """A value as PHP compares it after cleaning: booleans and whole floats as integers."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
