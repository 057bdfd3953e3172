"""The fake site itself: tokens, services, and :meth:`SandboxMoodle.dispatch`, Moodle's call pipeline.

``dispatch(token, function, params)`` runs the checks in Moodle's order (token, function exists,
function in the token's service, parameters against the real 4.5 signature, the capabilities the
function declares), then the function in one transaction under the one lock, then sends the mails the
call queued (only once the transaction committed, as Moodle does), and returns the answer or raises
:class:`~moodle_sync.sandbox.errors.SandboxMoodleError`. Transports (REST, SOAP) only translate.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from ..ws.functions import FUNCTIONS
from ..ws.signatures import load_signatures

# Registers the implementations (each module adds its functions to HANDLERS on import).
from . import (  # noqa: F401 - imported for their registrations
    functions_capability,
    functions_completion,
    functions_content,
    functions_course,
    functions_group,
    functions_message,
    functions_site,
    functions_user,
)
from . import records as r
from .calls import ADMIN_ID, DEFAULT_TIMEZONE, HANDLERS, Call, site_timezone
from .capabilities import add_ws_user, declared_capabilities, require_capabilities
from .errors import (
    MOODLE_EXCEPTION,
    RecordFailure,
    SandboxMoodleError,
    access_denied,
    invalid_parameter,
    invalid_token,
    unknown_function,
)
from .params import validate_parameters
from .seed import seed_state
from .state import State

FULL_SERVICE = "moodle_sync"
LIMITED_SERVICE = "moodle_sync_limited"


def implemented_functions() -> list[str]:
    """Functions the sandbox serves: moodle_sync's own (declaration order) then the extras."""
    ours = [name for name in FUNCTIONS if name in HANDLERS]
    return ours + sorted(set(HANDLERS) - set(ours))


@dataclass
class SandboxMoodle:
    """A stateful Moodle 4.5 web-service site in memory. Thread-safe: one lock around the state."""

    state: State | None = None
    debug: bool = False
    base_url: str = "http://127.0.0.1"
    latency_ms: float = 0.0
    clock: Callable[[], float] = time.time
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    record_failures: list[RecordFailure] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    on_write: Callable[[], None] | None = None
    timezone: str = DEFAULT_TIMEZONE  # the site's time zone ($CFG->timezone), an IANA name
    _cache: dict[str, tuple[int, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Raises ``ValueError`` for an unknown ``timezone``."""
        site_timezone(self.timezone)
        if self.state is None:
            self.state = seed_state(self.now(), self.tz)
        self._ensure_tokens()

    @property
    def tz(self) -> tzinfo:
        """The site's time zone (dates shown to people, a new course's midnight)."""
        return site_timezone(self.timezone)

    # tokens ----------------------------------------------------------------------------------
    def _ensure_tokens(self) -> None:
        st = self._state
        services = {t.service for t in st.tokens}
        if FULL_SERVICE not in services:
            self._add_token(FULL_SERVICE, implemented_functions())
        if LIMITED_SERVICE not in services:
            self._add_token(LIMITED_SERVICE, ["core_webservice_get_site_info"])

    def _add_token(self, service: str, functions: list[str], userid: int = ADMIN_ID) -> str:
        value = secrets.token_hex(16)
        self._state.insert("tokens", r.Token(id=0, token=value, userid=userid, service=service,
                                             functions=list(functions)))
        return value

    def _token_of(self, service: str) -> str:
        return next(t.token for t in self._state.tokens if t.service == service)

    @property
    def token(self) -> str:
        """A token for the full service (every implemented function), user admin (id 2)."""
        return self._token_of(FULL_SERVICE)

    @property
    def limited_token(self) -> str:
        """A token whose service holds only ``core_webservice_get_site_info``."""
        return self._token_of(LIMITED_SERVICE)

    def make_token(self, functions: list[str], *, userid: int = ADMIN_ID, lacking: list[str] | None = None) -> str:
        """A new token for a service holding exactly ``functions`` (unknown names are kept as given).

        With ``lacking`` the token belongs to a new user (``wsuser<n>``) whose system role allows every
        capability except those; ``ValueError`` for a name that is not a capability's.
        """
        with self.lock:
            if lacking is not None:
                userid = add_ws_user(self._state, self.now(), list(lacking)).id
            n = sum(1 for t in self._state.tokens if t.service.startswith("custom")) + 1
            return self._add_token(f"custom{n}", functions, userid)

    def token_functions(self, token: str | None) -> list[str]:
        """The functions of the token's service; :func:`invalid_token` if there is no such token."""
        with self.lock:
            tok = self._state.tokens.first("token", token) if token else None
            if tok is None:
                raise invalid_token()
            return list(tok.functions)

    # the pipeline ----------------------------------------------------------------------------
    @property
    def _state(self) -> State:
        assert self.state is not None
        return self.state

    def now(self) -> int:
        return int(self.clock())

    def dispatch(self, token: str | None, function: str | None, params: Mapping[str, Any] | None) -> Any:
        """Run one web-service call as Moodle does; raise :class:`SandboxMoodleError` on failure."""
        if function:
            with self.lock:
                self.counts[function] += 1
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000.0)
        with self.lock:
            return self._dispatch_locked(token, function, params or {})

    def _dispatch_locked(self, token: str | None, function: str | None, params: Mapping[str, Any]) -> Any:
        st = self._state
        tok = st.tokens.first("token", token) if token else None
        if tok is None:
            raise invalid_token()
        if not function:
            raise invalid_parameter("Missing function name")
        signatures = load_signatures()
        if function not in signatures:
            raise unknown_function(function)
        if function not in tok.functions:
            raise access_denied(function)
        handler = HANDLERS.get(function)
        if handler is None:
            raise SandboxMoodleError(MOODLE_EXCEPTION, "sandboxnotimplemented",
                                     f"The moodle_sync sandbox does not implement {function}")
        cleaned = validate_parameters(signatures[function]["parameters_desc"], dict(params))
        require_capabilities(st, tok.userid, declared_capabilities(signatures[function]))
        call = Call(state=st, function=function, userid=tok.userid, now=self.now(), base_url=self.base_url,
                    token=tok.token, failures=self.record_failures, cache=self._cache, tz=self.tz)
        version = st.version
        with st.transaction():
            declared = FUNCTIONS.get(function)
            if declared is None or declared.batch_key is None:
                list(call.records([cleaned]))  # injected failures match a plain call's parameters
            result = handler(call, cleaned)
        for mail in call.outbox:  # sent after the commit: a rolled-back call mails nobody
            st.insert("mails", mail)
        if st.version != version and self.on_write is not None:
            self.on_write()
        if call.after_commit is not None:
            raise call.after_commit
        return result

    def call(self, function: str, params: Mapping[str, Any] | None = None, *, token: str | None = None) -> Any:
        """In-process call with the full token (for tests and controls); same checks as over HTTP."""
        return self.dispatch(token or self.token, function, params or {})
