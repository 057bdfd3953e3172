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
from typing import Any, Generic, TypeVar

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


def send_in_batches(client: Any, function: str, key: str, records: Sequence[T], *,
                    extra_params: Mapping[str, Any] | None = None,
                    encode: Callable[[T], Mapping[str, Any]] | None = None,
                    reconcile: Callable[[list[T]], list[T]] | None = None,
                    max_records: int | None = None, parallel: bool = True,
                    on_progress: Callable[[int], None] | None = None) -> BatchOutcome[T]:
    """Send ``records`` to an all-or-nothing batch function; isolate and report the bad ones.

    ``encode`` turns a record into the dict Moodle takes (identity by default). The answer of a call
    that returns one item per record is paired with the records in order. ``reconcile`` is called with
    the records of a batch whose write timed out: it must read Moodle and return those that did NOT
    land (they are then sent again); without it such records are reported failed. ``on_progress``
    gets the number of records settled after each call. With ``parallel`` (and the client's
    ``write_concurrency`` above 1) independent batches are sent side by side; a batch that Moodle's
    database rolled back (``dmlwriteexception``, e.g. a deadlock between two of them) is sent once more
    as it is before its records are split. Raises only for failures no split can fix
    (bad token, function not allowed, site unreachable).
    """
    encode = encode or (lambda r: r)  # type: ignore[assignment,return-value]
    lock = threading.Lock()
    extra = dict(extra_params or {})
    encoded = [encode(r) for r in records]
    outcome: BatchOutcome[T] = BatchOutcome()
    extra_fields = count_form_fields(extra)
    limit = getattr(client, "max_input_vars", 1000)

    def settle(n: int) -> None:
        if on_progress:
            on_progress(n)

    # When every record tried alone fails the same way and none has gone through, the cause is not in
    # the records (a setting such as an uninstalled language, a disabled auth plugin): stop splitting.
    streak: dict[str, Any] = {"signature": None, "count": 0, "error": None}

    def systematic(exc: WebServiceError) -> bool:
        signature = (exc.errorcode, exc.moodle_message, exc.debuginfo)
        if outcome.done or signature != streak["signature"]:
            streak.update(signature=signature, count=0, error=exc)
        streak["count"] += 1
        return not outcome.done and streak["count"] >= SYSTEMATIC_AFTER

    def attempt(indexes: list[int], *, reconciled: bool = False, retried: bool = False) -> None:
        payload = {**extra, key: [encoded[i] for i in indexes]}
        with lock:
            outcome.calls += 1
        try:
            result = client.call(function, payload)
        except WriteOutcomeUnknownError as exc:
            batch = [records[i] for i in indexes]
            if reconcile is None or reconciled:
                outcome.failed.extend((r, exc) for r in batch)
                settle(len(indexes))
                return
            missing = {id(r) for r in reconcile(batch)}
            landed = [i for i in indexes if id(records[i]) not in missing]
            outcome.done.extend((records[i], None) for i in landed)
            settle(len(landed))
            rest = [i for i in indexes if id(records[i]) in missing]
            if rest:
                attempt(rest, reconciled=True)
            return
        except WebServiceError as exc:
            if _global_failure(exc):
                raise
            if exc.errorcode in TRANSIENT and not retried and len(indexes) > 1:
                # rolled back whole (all-or-nothing): sending it again cannot apply anything twice
                log.info("%s: a batch of %d was rolled back (%s); sending it again", function, len(indexes), exc)
                time.sleep(random.uniform(0.05, 0.3))
                attempt(indexes, reconciled=reconciled, retried=True)
                return
            log.info("%s: a batch of %d failed (%s); isolating the cause", function, len(indexes), exc)
            if streak["count"] >= SYSTEMATIC_AFTER and not outcome.done:
                outcome.failed.extend((records[i], streak["error"]) for i in indexes)
                settle(len(indexes))
                return
            if len(indexes) == 1:
                outcome.failed.append((records[indexes[0]], exc))
                settle(1)
                systematic(exc)
                return
            guess = _guess_culprit([encoded[i] for i in indexes], exc)
            if guess is not None:
                culprit = indexes[guess]
                attempt([culprit])
                attempt([i for i in indexes if i != culprit])
                return
            mid = len(indexes) // 2
            attempt(indexes[:mid])
            attempt(indexes[mid:])
            return
        items = result if isinstance(result, list) and len(result) == len(indexes) else [None] * len(indexes)
        outcome.done.extend((records[i], item) for i, item in zip(indexes, items))
        settle(len(indexes))

    def send(batch: list[int]) -> None:
        if streak["count"] >= SYSTEMATIC_AFTER and not outcome.done:
            outcome.failed.extend((records[i], streak["error"]) for i in batch)
            settle(len(batch))
            return
        attempt(batch)

    # Independent batches go to the site several at once (``write_concurrency``: the site's PHP workers
    # run them side by side); enough batches are made for that when there are records for it.
    workers = max(1, getattr(client, "write_concurrency", 1)) if parallel else 1
    if workers > 1 and len(encoded) >= 2 * MIN_PARALLEL_BATCH:
        share = max(MIN_PARALLEL_BATCH, -(-len(encoded) // workers))
        max_records = min(max_records or share, share)
    batches = plan_batches(encoded, limit, extra_fields=extra_fields, max_records=max_records)
    if workers > 1 and len(batches) > 1:
        run_bounded(send, batches, workers=workers, name="moodle-write", client=client)
    else:
        for batch in batches:
            send(batch)
    return outcome


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
        failed = [f.exception() for f in futures if f.done() and not f.cancelled() and f.exception()]
        if failed:
            raise next((e for e in failed if not isinstance(e, RunHaltedError)), failed[0])
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt) and hasattr(client, "halt"):
            client.halt(exc)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [f.result() for f in futures]


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
