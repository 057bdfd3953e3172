"""Batches for Moodle's all-or-nothing write functions, and bounded concurrency for reads.

``core_user_create_users``, ``enrol_manual_enrol_users`` and friends run one transaction per call: the
first bad record rolls back the batch and Moodle's error names only that record. :func:`send_in_batches`
sizes batches by form fields (PHP silently drops fields past ``max_input_vars``), and when a batch
fails on a record error it isolates the bad records (first by trying the record the error points at,
else by bisecting) so that every good record goes through and every bad one comes back with Moodle's
reason.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ..exceptions import (
    AccessDeniedError,
    InvalidTokenError,
    MoodleSyncError,
    RunHaltedError,
    TransportError,
    WebServiceError,
    WriteOutcomeUnknownError,
    ends_the_run,
)
from .signatures import count_form_fields

log = logging.getLogger("moodle_sync.ws.batching")

T = TypeVar("T")
R = TypeVar("R")

# wstoken, wsfunction and moodlewsrestformat travel with every request.
FIXED_FIELDS = 3
# After this many records failed alone with the same error and none succeeded, the rest are not split.
SYSTEMATIC_AFTER = 3
# Errors of a batch that the database rolled back as a whole (a deadlock between concurrent batches).
TRANSIENT = {"dmlwriteexception", "dmltransactionexception"}
# Batches are split for concurrent sending only down to this many records each.
MIN_PARALLEL_BATCH = 50


class Caller(Protocol):
    """What :func:`send_in_batches` needs of a client: one call. ``max_input_vars`` (default 1000) and
    ``write_concurrency`` (default 1) are read when the client has them, ``halt`` on Ctrl-C."""

    def call(self, function: str, params: Mapping[str, Any]) -> Any: ...


@dataclass
class BatchOutcome(Generic[T]):
    """What happened to each record: ``done`` pairs a record with Moodle's answer for it (or None)."""

    done: list[tuple[T, Any]] = field(default_factory=list)
    failed: list[tuple[T, MoodleSyncError]] = field(default_factory=list)
    calls: int = 0


def plan_batches(records: Sequence[Mapping[str, Any]], max_input_vars: int, *, extra_fields: int = 0,
                 max_records: int | None = None) -> list[list[int]]:
    """Split record indexes into batches whose form-field count stays within ``max_input_vars``.

    A single record larger than the limit gets a batch of its own (Moodle would truncate it; the
    caller is told by the error that follows).
    """
    budget = max(1, max_input_vars - FIXED_FIELDS - extra_fields)
    batches: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, record in enumerate(records):
        n = count_form_fields(record)
        if current and (used + n > budget or (max_records and len(current) >= max_records)):
            batches.append(current)
            current, used = [], 0
        current.append(i)
        used += n
    if current:
        batches.append(current)
    return batches


def _global_failure(exc: Exception) -> bool:
    """Errors that no split can fix: the token or the service is wrong for every record."""
    return isinstance(exc, (InvalidTokenError, AccessDeniedError)) or (
        isinstance(exc, TransportError) and not isinstance(exc, WriteOutcomeUnknownError))


def _guess_culprit(records: Sequence[Mapping[str, Any]], exc: WebServiceError) -> int | None:
    """The index of the one record whose distinctive values Moodle's error text mentions, if unique."""
    text = f"{exc.moodle_message} {exc.debuginfo or ''}"
    hits = []
    for i, record in enumerate(records):
        values = [str(v) for v in record.values() if isinstance(v, (str, int)) and len(str(v)) >= 4]
        if any(v in text for v in values):
            hits.append(i)
    return hits[0] if len(hits) == 1 else None


def _as_mapping(record: object) -> Mapping[str, Any]:
    """A record that is already the dict Moodle takes; ``TypeError`` for any other record (it needs ``encode``)."""
    if not isinstance(record, Mapping):
        raise TypeError(f"send_in_batches: a {type(record).__name__} record needs encode= to become "
                        "the dict Moodle takes")
    return record


def _write_workers(client: Caller, parallel: bool) -> int:
    """How many batches go to the site side by side: the client's ``write_concurrency`` when ``parallel``."""
    return max(1, getattr(client, "write_concurrency", 1)) if parallel else 1


def _batch_cap(max_records: int | None, workers: int, count: int) -> int | None:
    """The most records a batch may hold: ``max_records``, lowered so that ``workers`` batches can run side by
    side when there are records for it (never below :data:`MIN_PARALLEL_BATCH`)."""
    if workers > 1 and count >= 2 * MIN_PARALLEL_BATCH:
        share = max(MIN_PARALLEL_BATCH, -(-count // workers))
        return min(max_records or share, share)
    return max_records


def send_in_batches(client: Caller, function: str, key: str, records: Sequence[T], *,
                    extra_params: Mapping[str, Any] | None = None,
                    encode: Callable[[T], Mapping[str, Any]] | None = None,
                    reconcile: Callable[[list[T]], list[T]] | None = None,
                    max_records: int | None = None, parallel: bool = True,
                    on_progress: Callable[[int], None] | None = None) -> BatchOutcome[T]:
    """Send ``records`` to an all-or-nothing batch function; isolate and report the bad ones.

    ``encode`` turns a record into the dict Moodle takes (records must be mappings without it:
    ``TypeError`` otherwise). The answer of a call that returns one item per record is paired with the
    records in order. ``reconcile`` is called with the records of a batch whose write timed out: it must
    read Moodle and return those that did NOT land (they are then sent again); without it such records
    are reported failed. ``on_progress`` gets the number of records settled after each call. With
    ``parallel`` (and the client's ``write_concurrency`` above 1) independent batches are sent side by
    side; a batch that Moodle's database rolled back (``dmlwriteexception``, e.g. a deadlock between two
    of them) is sent once more as it is before its records are split. Raises only for failures no split
    can fix (bad token, function not allowed, site unreachable).
    """
    encoded = [(encode or _as_mapping)(r) for r in records]
    extra = dict(extra_params or {})
    sender = _BatchSender(client, function, key, records, encoded, extra, reconcile, on_progress)
    workers = _write_workers(client, parallel)
    batches = plan_batches(encoded, getattr(client, "max_input_vars", 1000), extra_fields=count_form_fields(extra),
                           max_records=_batch_cap(max_records, workers, len(encoded)))
    if workers > 1 and len(batches) > 1:
        run_bounded(sender.send, batches, workers=workers, name="moodle-write", client=client)
    else:
        for batch in batches:
            sender.send(batch)
    return sender.outcome


@dataclass
class _Streak:
    """Records tried alone that failed the same way in a row, while none has gone through."""

    signature: tuple[str, str, str | None] | None = None
    count: int = 0
    error: WebServiceError | None = None


class _BatchSender(Generic[T]):
    """One :func:`send_in_batches` run: sends batches (from several threads) and settles every record of
    each in ``outcome``, done or failed, by splitting refused batches down to the records at fault."""

    def __init__(self, client: Caller, function: str, key: str, records: Sequence[T],
                 encoded: list[Mapping[str, Any]], extra: dict[str, Any],
                 reconcile: Callable[[list[T]], list[T]] | None,
                 on_progress: Callable[[int], None] | None) -> None:
        self.client, self.function, self.key = client, function, key
        self.records, self.encoded, self.extra = records, encoded, extra
        self.reconcile, self.on_progress = reconcile, on_progress
        self.outcome: BatchOutcome[T] = BatchOutcome()
        self.streak = _Streak()
        self.lock = threading.Lock()

    def send(self, batch: list[int]) -> None:
        """Send one planned batch, unless the failures so far are systematic (then it fails as they did)."""
        error = self._systematic_error()
        if error is not None:
            self._fail(batch, error)
            return
        self.attempt(batch)

    def attempt(self, indexes: list[int], *, reconciled: bool = False, retried: bool = False) -> None:
        """One call with the records at ``indexes``; every one of them is settled when it returns."""
        with self.lock:
            self.outcome.calls += 1
        try:
            result = self.client.call(self.function, {**self.extra, self.key: [self.encoded[i] for i in indexes]})
        except WriteOutcomeUnknownError as exc:
            self._settle_lost_answer(indexes, exc, reconciled=reconciled)
        except WebServiceError as exc:
            self._settle_refusal(indexes, exc, reconciled=reconciled, retried=retried)
        else:
            items = result if isinstance(result, list) and len(result) == len(indexes) else [None] * len(indexes)
            self._done(indexes, items)

    def _settle_lost_answer(self, indexes: list[int], exc: WriteOutcomeUnknownError, *, reconciled: bool) -> None:
        """The answer was lost: never re-sent blindly. ``reconcile`` reads Moodle; what did not land is sent
        once more. Without ``reconcile`` (or after the second loss) the records fail with ``exc``."""
        if self.reconcile is None or reconciled:
            self._fail(indexes, exc)
            return
        missing = {id(r) for r in self.reconcile([self.records[i] for i in indexes])}
        landed = [i for i in indexes if id(self.records[i]) not in missing]
        self._done(landed, [None] * len(landed))
        rest = [i for i in indexes if id(self.records[i]) in missing]
        if rest:
            self.attempt(rest, reconciled=True)

    def _settle_refusal(self, indexes: list[int], exc: WebServiceError, *, reconciled: bool,
                        retried: bool) -> None:
        """Moodle refused the batch: raise what no split can fix, send a rolled-back batch once more as it
        is, fail a lone record, else split the batch and try the parts."""
        if _global_failure(exc):
            raise exc
        if exc.errorcode in TRANSIENT and not retried and len(indexes) > 1:
            # rolled back whole (all-or-nothing): sending it again cannot apply anything twice
            log.info("%s: a batch of %d was rolled back (%s); sending it again", self.function, len(indexes), exc)
            time.sleep(random.uniform(0.05, 0.3))
            self.attempt(indexes, reconciled=reconciled, retried=True)
            return
        log.info("%s: a batch of %d failed (%s); isolating the cause", self.function, len(indexes), exc)
        systematic = self._systematic_error()
        if systematic is not None:
            self._fail(indexes, systematic)
        elif len(indexes) == 1:
            self._fail(indexes, exc)
            self._note_alone(exc)
        else:
            for part in self._split(indexes, exc):
                self.attempt(part)

    def _split(self, indexes: list[int], exc: WebServiceError) -> list[list[int]]:
        """The record Moodle's error points at and the others, or else two halves."""
        guess = _guess_culprit([self.encoded[i] for i in indexes], exc)
        if guess is not None:
            culprit = indexes[guess]
            return [[culprit], [i for i in indexes if i != culprit]]
        mid = len(indexes) // 2
        return [indexes[:mid], indexes[mid:]]

    def _note_alone(self, exc: WebServiceError) -> None:
        """Count a record that failed alone into the streak of same failures (reset by a new error or by
        any record having gone through)."""
        signature = (exc.errorcode, exc.moodle_message, exc.debuginfo)
        if self.outcome.done or signature != self.streak.signature:
            self.streak = _Streak(signature, 0, exc)
        self.streak.count += 1

    def _systematic_error(self) -> WebServiceError | None:
        """When every record tried alone failed the same way and none has gone through, the cause is not in
        the records (a setting such as an uninstalled language, a disabled auth plugin): the error the rest
        fail with, unsplit. None otherwise."""
        if self.streak.count >= SYSTEMATIC_AFTER and not self.outcome.done:
            return self.streak.error
        return None

    def _done(self, indexes: list[int], answers: list[Any]) -> None:
        self.outcome.done.extend((self.records[i], item) for i, item in zip(indexes, answers))
        self._settled(len(indexes))

    def _fail(self, indexes: list[int], error: MoodleSyncError) -> None:
        self.outcome.failed.extend((self.records[i], error) for i in indexes)
        self._settled(len(indexes))

    def _settled(self, count: int) -> None:
        if self.on_progress:
            self.on_progress(count)


def run_bounded(task: Callable[[T], R], items: Sequence[T], *, workers: int, name: str,
                client: Any = None) -> list[R]:
    """Run ``task`` over ``items`` on at most ``workers`` threads; results in input order.

    The first exception a task raises ends the run: items not started yet are never started, the
    running ones are waited for, and the exception is raised (a failure other than
    :class:`RunHaltedError` is preferred when several came at once). On Ctrl-C (``KeyboardInterrupt``)
    the same happens, and ``client`` is halted first (:meth:`MoodleClient.halt`) so that a running task
    sends nothing more: only calls already on the wire are waited for, then the interrupt propagates.
    """
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))), thread_name_prefix=name)
    futures: list[Future[R]] = []
    try:
        futures.extend(pool.submit(task, item) for item in items)
        wait(futures, return_when=FIRST_EXCEPTION)
        failure = _first_failure(futures)
        if failure is not None:
            raise failure
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and hasattr(client, "halt"):
            client.halt(exc)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [f.result() for f in futures]


def _first_failure(futures: Sequence[Future[Any]]) -> BaseException | None:
    """The exception of a finished task, one other than :class:`RunHaltedError` if there is one; else None."""
    failed: list[BaseException] = []
    for f in futures:
        exc = f.exception() if f.done() and not f.cancelled() else None
        if exc is not None:
            failed.append(exc)
    return next((e for e in failed if not isinstance(e, RunHaltedError)), failed[0] if failed else None)


def map_concurrent(fn: Callable[[T], R], items: Iterable[T], *, workers: int = 4,
                   on_done: Callable[[], None] | None = None, client: Any = None) -> list[R | MoodleSyncError]:
    """Run ``fn`` over ``items`` with at most ``workers`` at once; results in input order.

    A :class:`MoodleSyncError` raised for one item is returned in its place (so one failing read does not
    lose the others), except one that ends the run (:func:`~moodle_sync.exceptions.ends_the_run`: a wrong
    token, a refused service, an unreachable site): that one is raised at once and the items not started
    yet are dropped. Any other exception propagates the same way; Ctrl-C halts ``client`` (see
    :func:`run_bounded`).
    """
    items = list(items)

    def run(item: T) -> R | MoodleSyncError:
        try:
            return fn(item)
        except MoodleSyncError as exc:
            if ends_the_run(exc):
                raise
            return exc
        finally:
            if on_done:
                on_done()

    if workers <= 1 or len(items) <= 1:
        return [run(i) for i in items]
    return run_bounded(run, items, workers=workers, name="moodle-read", client=client)
