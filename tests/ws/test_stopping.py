"""The client fails closed and stops early: undeclared functions are never re-sent, an answer that makes
the rest of the run pointless stops it at once, and Ctrl-C sends nothing new."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from moodle_sync.exceptions import (
    AccessDeniedError,
    RequestTimeoutError,
    RunHaltedError,
    SiteUnreachableError,
    WriteOutcomeUnknownError,
    from_moodle_error,
)
from moodle_sync.ws.batching import send_in_batches
from moodle_sync.ws.moodle import Moodle
from moodle_sync.ws.rest import RestTransport
from moodle_sync.ws.transport import MoodleClient, RetryPolicy
from tests.conftest import sample

TOKEN = "0123456789abcdef0123456789abcdef"


class Scripted:
    """A transport that answers every call with ``answer(function, params)`` and counts the calls."""

    protocol = "fake"

    def __init__(self, answer: Callable[[str, Mapping[str, Any]], Any]) -> None:
        self.answer = answer
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        with self._lock:
            self.calls.append(function)
        return self.answer(function, params)

    def close(self) -> None:
        pass


def client(t: Any, **kw: Any) -> MoodleClient:
    c = MoodleClient(t, retry=RetryPolicy(attempts=4, backoff=0), validate=False, **kw)
    c._sleep = lambda s: None
    return c


def moodle_error(name: str) -> Callable[[str, Mapping[str, Any]], Any]:
    body = sample(name)

    def answer(function: str, params: Mapping[str, Any]) -> Any:
        raise from_moodle_error(function, body)

    return answer


def test_an_undeclared_function_is_never_resent_after_a_lost_answer() -> None:
    def timeout(function: str, params: Mapping[str, Any]) -> Any:
        raise RequestTimeoutError(function, "no answer within 60s")

    t = Scripted(timeout)
    with pytest.raises(WriteOutcomeUnknownError):
        client(t).call("local_plugin_do_something", {"x": 1})
    assert t.calls == ["local_plugin_do_something"]


def test_a_declared_read_is_still_retried_on_timeout() -> None:
    def timeout(function: str, params: Mapping[str, Any]) -> Any:
        raise RequestTimeoutError(function, "no answer within 60s")

    t = Scripted(timeout)
    with pytest.raises(RequestTimeoutError):
        client(t).call("core_course_get_categories")
    assert len(t.calls) == 4


def test_a_wrong_token_stops_concurrent_reads_at_once() -> None:
    t = Scripted(moodle_error("core_webservice_get_site_info-invalidtoken"))
    m = Moodle(client(t, concurrency=4))
    with pytest.raises(Exception) as info:
        m.map_reads(lambda cid: m.groups(cid), range(60))
    assert type(info.value).__name__ == "InvalidTokenError"
    assert len(t.calls) <= 4  # only the calls already on their way; 60 before
    with pytest.raises(RunHaltedError, match="invalidtoken"):
        m.categories()
    assert len(t.calls) <= 4


def test_a_function_outside_the_service_stops_the_run() -> None:
    t = Scripted(moodle_error("core_course_get_courses_by_field-accessexception"))
    m = Moodle(client(t, concurrency=3))
    with pytest.raises(AccessDeniedError):
        m.map_reads(lambda key: m.courses_by_field("idnumber", key), [f"c{i}" for i in range(30)])
    assert len(t.calls) <= 3


def test_a_per_course_access_error_does_not_stop_the_others() -> None:
    body = {"exception": "required_capability_exception", "errorcode": "nopermissions",
            "message": "Sorry, but you do not currently have permissions to do that (View participants)."}

    def answer(function: str, params: Mapping[str, Any]) -> Any:
        if params["courseid"] == 3:
            raise from_moodle_error(function, body)
        return []

    t = Scripted(answer)
    m = Moodle(client(t))
    results = m.map_reads(lambda cid: m.groups(cid), range(8))
    assert isinstance(results[3], AccessDeniedError) and results[4] == [] and len(t.calls) == 8


def test_an_unreachable_site_stops_concurrent_reads_without_retries() -> None:
    transport = RestTransport("http://127.0.0.1:9", TOKEN)  # nothing listens on the discard port
    m = Moodle(client(transport, concurrency=4))
    with pytest.raises(SiteUnreachableError, match="connection refused"):
        m.map_reads(lambda cid: m.groups(cid), range(60))
    assert m.client.stats.total_calls <= 4  # 240 before: 60 courses, 4 attempts each


def test_a_wrong_token_in_side_by_side_write_batches_sends_nothing_more() -> None:
    t = Scripted(moodle_error("core_webservice_get_site_info-invalidtoken"))
    records = [{"username": f"u{i}", "email": f"u{i}@x.id"} for i in range(600)]
    with pytest.raises(Exception) as info:
        send_in_batches(client(t, write_concurrency=2), "core_user_create_users", "users", records,
                        max_records=50)
    assert type(info.value).__name__ == "InvalidTokenError"
    assert len(t.calls) <= 2


def test_ctrl_c_sends_no_queued_write_batch_and_propagates() -> None:
    main = threading.main_thread().ident
    c: MoodleClient

    def slow(function: str, params: Mapping[str, Any]) -> Any:
        # the first call "presses Ctrl-C"; every call on the wire answers only once the run has reacted
        if len(t.calls) == 1:
            signal.pthread_kill(main, signal.SIGINT)  # type: ignore[arg-type]
        deadline = threading.Event()
        for _ in range(1000):  # a guard against hanging, not a timing: returns as soon as halted
            if c.halted is not None:
                break
            deadline.wait(0.01)
        return [{"id": i, "username": u["username"]} for i, u in enumerate(params["users"])]

    t = Scripted(slow)
    c = client(t, write_concurrency=2)
    records = [{"username": f"u{i}", "email": f"u{i}@x.id"} for i in range(300)]
    with pytest.raises(KeyboardInterrupt):
        send_in_batches(c, "core_user_create_users", "users", records, max_records=50)
    assert 1 <= len(t.calls) <= 2  # the batches on the wire when Ctrl-C came; 6 were planned
    assert isinstance(c.halted, KeyboardInterrupt)
    with pytest.raises(RunHaltedError, match="interrupted"):
        c.call("core_course_get_categories")
    assert len(t.calls) <= 2


def test_writes_side_by_side_are_bounded_by_write_concurrency_not_by_the_read_concurrency(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from moodle_sync.ws import moodle as operations

    bounds: list[tuple[str, int]] = []
    real = operations.map_concurrent

    def spy(fn: Callable[[Any], Any], items: Any, *, workers: int, **kwargs: Any) -> list[Any]:
        bounds.append((fn.__name__, workers))
        return real(fn, items, workers=workers, **kwargs)

    monkeypatch.setattr(operations, "map_concurrent", spy)
    t = Scripted(lambda function, params: [] if function == "core_group_get_course_groups" else None)
    m = Moodle(client(t, concurrency=6, write_concurrency=2))

    def read(cid: int) -> Any:
        return m.groups(cid)

    def write(sid: int) -> None:
        m.rename_section(sid, "Pekan 1")

    assert m.map_reads(read, range(4)) == [[]] * 4
    assert m.map_writes(write, range(4)) == [None] * 4
    assert bounds == [("read", 6), ("write", 2)]
    assert t.calls.count("core_update_inplace_editable") == 4
