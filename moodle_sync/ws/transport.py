"""The one door to Moodle: a :class:`Transport` (REST or SOAP) behind :class:`MoodleClient`.

A transport sends one call and returns the decoded result or raises one of our exceptions. The client
adds what every call needs whatever the protocol: the check of parameters against the real signature,
retries of reads with back-off (connection errors, timeouts, 5xx, 429 honouring ``Retry-After``),
never a blind re-send of a write, and counting and timing of every call per function.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..exceptions import (
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    RunHaltedError,
    ServerError,
    TransportError,
    WebServiceError,
    WriteOutcomeUnknownError,
    ends_the_run,
)
from .functions import FUNCTIONS, Kind
from .signatures import check_params

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger("moodle_sync.ws")


class Transport(Protocol):
    """Sends one web-service call. Implementations: :class:`~moodle_sync.ws.rest.RestTransport`,
    :class:`~moodle_sync.ws.soap.SoapTransport`.

    ``send`` returns the decoded result (``None`` for functions that return nothing) and raises
    :class:`~moodle_sync.exceptions.WebServiceError` subclasses for Moodle's exception answers,
    :class:`ConnectionFailedError` (with ``sent=False`` when the request surely never left),
    :class:`RequestTimeoutError`, :class:`ServerError` or :class:`RateLimitedError` otherwise.
    """

    protocol: str

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any: ...

    def close(self) -> None: ...


@dataclass
class FunctionStats:
    calls: int = 0
    errors: int = 0
    retries: int = 0
    seconds: float = 0.0


@dataclass
class CallStats:
    """Calls, errors, retries and time per function. Thread-safe."""

    by_function: dict[str, FunctionStats] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, function: str, seconds: float, *, error: bool = False, retry: bool = False) -> None:
        with self._lock:
            s = self.by_function.setdefault(function, FunctionStats())
            s.calls += 1
            s.seconds += seconds
            s.errors += int(error)
            s.retries += int(retry)

    @property
    def total_calls(self) -> int:
        return sum(s.calls for s in self.by_function.values())

    @property
    def total_seconds(self) -> float:
        return sum(s.seconds for s in self.by_function.values())

    def calls_to(self, function: str) -> int:
        s = self.by_function.get(function)
        return s.calls if s else 0

    def snapshot(self) -> CallStats:
        with self._lock:
            return CallStats({k: FunctionStats(**vars(v)) for k, v in self.by_function.items()})

    def since(self, earlier: CallStats) -> CallStats:
        """The calls made after ``earlier`` (a :meth:`snapshot`)."""
        out = CallStats()
        for name, s in self.snapshot().by_function.items():
            e = earlier.by_function.get(name, FunctionStats())
            if s.calls - e.calls:
                out.by_function[name] = FunctionStats(s.calls - e.calls, s.errors - e.errors,
                                                      s.retries - e.retries, s.seconds - e.seconds)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_calls": self.total_calls,
            "total_seconds": round(self.total_seconds, 3),
            "functions": {k: {"calls": v.calls, "errors": v.errors, "retries": v.retries,
                              "seconds": round(v.seconds, 3)}
                          for k, v in sorted(self.by_function.items())},
        }


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried: ``attempts`` in all, exponential back-off with jitter, capped."""

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        return min(self.backoff * (2 ** (attempt - 1)), self.max_backoff) * (0.5 + random.random() / 2)


_RETRYABLE = (ConnectionFailedError, RequestTimeoutError, ServerError, RateLimitedError)


class MoodleClient:
    """Calls web-service functions through a transport, with checks, retries and statistics.

    ``call`` raises :class:`~moodle_sync.exceptions.RequestShapeError` before sending parameters
    that do not fit the real Moodle 4.5 signature, :class:`WebServiceError` subclasses for Moodle's
    errors, :class:`WriteOutcomeUnknownError` when a write got no answer (read Moodle to find out
    whether it happened), and other :class:`TransportError` subclasses when reads keep failing.

    An answer that makes the rest of the run pointless (:func:`~moodle_sync.exceptions.ends_the_run`:
    a wrong token, a service that refuses it, a site that cannot be reached) halts the client: it is
    raised as it came, and every later call raises :class:`RunHaltedError` without sending anything.
    :meth:`halt` does the same on the caller's behalf (Ctrl-C).
    """

    def __init__(self, transport: Transport, *, timeout: float = 60.0, retry: RetryPolicy | None = None,
                 validate: bool = True, max_input_vars: int = 1000, concurrency: int = 4,
                 write_concurrency: int = 2, stats: CallStats | None = None) -> None:
        self.transport = transport
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.validate = validate
        self.max_input_vars = max_input_vars
        self.concurrency = concurrency
        self.write_concurrency = write_concurrency
        self.stats = stats or CallStats()
        self._sleep = time.sleep
        self._halted: BaseException | None = None

    @property
    def protocol(self) -> str:
        return self.transport.protocol

    @property
    def halted(self) -> BaseException | None:
        """Why the client sends nothing more (the answer that ended the run, or the interrupt), or None."""
        return self._halted

    def halt(self, cause: BaseException) -> None:
        """Send nothing more: every later :meth:`call` raises :class:`RunHaltedError` naming ``cause``.
        Calls already on the wire finish. The first cause is kept."""
        if self._halted is None:
            self._halted = cause

    def call(self, function: str, params: Mapping[str, Any] | None = None) -> Any:
        """Call ``function`` with ``params`` and return Moodle's decoded answer.

        A function not declared in :mod:`~moodle_sync.ws.functions` is treated as a write: it is never
        re-sent after a lost answer (failing closed: we cannot know that calling it twice is harmless).
        """
        params = dict(params or {})
        decl = FUNCTIONS.get(function)
        if self.validate:
            check_params(function, params)
        is_write = decl is None or decl.kind is Kind.WRITE
        attempt = 0
        while True:
            attempt += 1
            if self._halted is not None:
                raise RunHaltedError(function, self._halted)
            started = time.perf_counter()
            try:
                result = self.transport.send(function, params, timeout=self.timeout)
            except WebServiceError as exc:
                self.stats.record(function, time.perf_counter() - started, error=True, retry=attempt > 1)
                if ends_the_run(exc):
                    self.halt(exc)
                raise
            except _RETRYABLE as exc:
                self.stats.record(function, time.perf_counter() - started, error=True, retry=attempt > 1)
                if ends_the_run(exc):
                    self.halt(exc)
                    raise
                if is_write and not _surely_not_processed(exc):
                    raise WriteOutcomeUnknownError(
                        function, f"no answer to a write ({exc}); it may have happened: read Moodle to "
                                  "find out before trying again") from exc
                if attempt >= self.retry.attempts:
                    raise
                wait = self.retry.delay(attempt, getattr(exc, "retry_after", None))
                log.warning("%s failed (%s); retry %d/%d in %.1fs", function, exc, attempt,
                            self.retry.attempts - 1, wait)
                self._sleep(wait)
                continue
            except KeyboardInterrupt as exc:
                self.halt(exc)
                raise
            self.stats.record(function, time.perf_counter() - started, retry=attempt > 1)
            return result

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _surely_not_processed(exc: TransportError) -> bool:
    """True when Moodle cannot have acted on the request: it never arrived, or was refused with 429."""
    if isinstance(exc, RateLimitedError):
        return True
    return isinstance(exc, ConnectionFailedError) and not getattr(exc, "sent", True)


def chunked(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]
