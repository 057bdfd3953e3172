from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from moodle_sync.exceptions import (
    InvalidParameterError,
    InvalidTokenError,
    RequestTimeoutError,
    WebServiceError,
    WriteOutcomeUnknownError,
)
from moodle_sync.ws.batching import map_concurrent, plan_batches, send_in_batches
from moodle_sync.ws.transport import MoodleClient, RetryPolicy


class AllOrNothingUsers:
    """Behaves like core_user_create_users: the first bad record fails the whole batch."""

    protocol = "fake"

    def __init__(self, bad: set[str], *, mention: bool = True) -> None:
        self.bad, self.mention = bad, mention
        self.created: list[str] = []
        self.calls: list[int] = []
        self.timeout_next = 0

    def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
        users = params["users"]
        self.calls.append(len(users))
        for u in users:
            if u["username"] in self.bad:
                text = f"Username already exists: {u['username']}" if self.mention else "Invalid"
                raise InvalidParameterError(function, "invalidparameter", "Invalid parameter value detected",
                                            debuginfo=text)
        if self.timeout_next:
            self.timeout_next -= 1
            self.created.extend(u["username"] for u in users)  # it happened, but no answer came
            raise RequestTimeoutError(function, "no answer")
        self.created.extend(u["username"] for u in users)
        return [{"id": 100 + len(self.created) - len(users) + i, "username": u["username"]}
                for i, u in enumerate(users)]

    def close(self) -> None:
        pass


def users(n: int) -> list[dict[str, Any]]:
    return [{"username": f"user{i:04d}", "firstname": "A", "lastname": "B", "email": f"u{i}@x.id",
             "createpassword": 1} for i in range(n)]


def client(t: AllOrNothingUsers, max_input_vars: int = 1000, write_concurrency: int = 1) -> MoodleClient:
    c = MoodleClient(t, max_input_vars=max_input_vars, retry=RetryPolicy(attempts=2, backoff=0),  # type: ignore[arg-type]
                     write_concurrency=write_concurrency)
    c._sleep = lambda s: None
    return c


def test_batches_are_sized_by_form_fields() -> None:
    records = users(1000)  # 5 fields each
    batches = plan_batches(records, 1000)
    assert all(len(b) * 5 <= 1000 - 3 for b in batches)
    assert sum(len(b) for b in batches) == 1000
    assert len(batches) == 6  # 199 records per batch


def test_every_good_record_lands_and_bad_ones_come_back_with_reasons() -> None:
    t = AllOrNothingUsers({"user0007", "user0150"})
    out = send_in_batches(client(t), "core_user_create_users", "users", users(300))
    assert sorted(r["username"] for r, _ in out.failed) == ["user0007", "user0150"]
    assert all("Username already exists" in str(e) for _, e in out.failed)
    assert len(out.done) == 298
    assert len(set(t.created)) == 298 == len(t.created)
    assert out.calls == len(t.calls)


def test_culprit_named_in_the_error_is_isolated_in_few_calls() -> None:
    t = AllOrNothingUsers({"user0042"})
    out = send_in_batches(client(t), "core_user_create_users", "users", users(150))
    assert out.calls == 3  # the batch, the culprit alone, the rest
    assert [r["username"] for r, _ in out.failed] == ["user0042"]


def test_bisects_when_the_error_names_nobody() -> None:
    t = AllOrNothingUsers({"user0003", "user0099"}, mention=False)
    out = send_in_batches(client(t), "core_user_create_users", "users", users(128))
    assert sorted(r["username"] for r, _ in out.failed) == ["user0003", "user0099"]
    assert len(out.done) == 126
    assert out.calls < 40


def test_global_errors_are_raised_not_bisected() -> None:
    class Bad(AllOrNothingUsers):
        def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
            self.calls.append(1)
            raise InvalidTokenError(function, "invalidtoken", "Invalid token - token not found")

    t = Bad(set())
    with pytest.raises(InvalidTokenError):
        send_in_batches(client(t), "core_user_create_users", "users", users(50))
    assert len(t.calls) == 1


def test_timed_out_batch_is_reconciled_not_resent() -> None:
    t = AllOrNothingUsers(set())
    t.timeout_next = 1
    seen: list[int] = []

    def reconcile(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        seen.append(len(batch))
        return [u for u in batch if u["username"] not in t.created]

    out = send_in_batches(client(t), "core_user_create_users", "users", users(20), reconcile=reconcile)
    assert seen == [20]
    assert len(out.done) == 20 and not out.failed
    assert len(t.created) == 20  # nothing created twice


def test_timed_out_batch_without_reconcile_is_reported_unknown() -> None:
    t = AllOrNothingUsers(set())
    t.timeout_next = 1
    out = send_in_batches(client(t), "core_user_create_users", "users", users(5))
    assert len(out.failed) == 5
    assert all(isinstance(e, WriteOutcomeUnknownError) for _, e in out.failed)
    assert len(t.calls) == 1


def test_map_concurrent_keeps_order_and_isolates_failures() -> None:
    def work(i: int) -> int:
        if i == 3:
            raise InvalidParameterError("f", "invalidparameter", "bad")
        return i * i

    results = map_concurrent(work, range(8), workers=4)
    assert results[:3] == [0, 1, 4]
    assert isinstance(results[3], InvalidParameterError)
    assert results[7] == 49


def test_a_cause_common_to_every_record_stops_the_splitting() -> None:
    everyone = {f"user{i:04d}" for i in range(400)}
    t = AllOrNothingUsers(everyone, mention=False)
    out = send_in_batches(client(t), "core_user_create_users", "users", users(400))
    assert len(out.failed) == 400 and not out.done
    assert out.calls < 20  # not two calls per record


@pytest.mark.parametrize("bad", [set(), {"user0007", "user0250"}])
def test_batches_go_out_side_by_side_and_still_land_once(bad: set[str]) -> None:
    t = AllOrNothingUsers(bad)
    out = send_in_batches(client(t, write_concurrency=2), "core_user_create_users", "users", users(300))
    assert len(t.calls) >= 2 and max(t.calls) <= 150  # split so that two batches can run at once
    assert sorted(r["username"] for r, _ in out.failed) == sorted(bad)
    assert len(out.done) == 300 - len(bad) and len(t.created) == len(set(t.created)) == 300 - len(bad)


def test_a_global_error_in_a_side_by_side_batch_is_raised() -> None:
    class Bad(AllOrNothingUsers):
        def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
            self.calls.append(1)
            raise InvalidTokenError(function, "invalidtoken", "Invalid token - token not found")

    with pytest.raises(InvalidTokenError):
        send_in_batches(client(Bad(set()), write_concurrency=2), "core_user_create_users", "users", users(300))


def test_a_batch_rolled_back_by_the_database_is_sent_again_before_splitting() -> None:
    class Deadlocking(AllOrNothingUsers):
        def send(self, function: str, params: Mapping[str, Any], *, timeout: float) -> Any:
            if not self.calls:
                self.calls.append(len(params["users"]))
                raise WebServiceError(function, "dmlwriteexception", "Error writing to database")
            return super().send(function, params, timeout=timeout)

    t = Deadlocking(set())
    out = send_in_batches(client(t), "core_user_create_users", "users", users(40))
    assert t.calls == [40, 40] and len(out.done) == 40 and len(set(t.created)) == 40


def test_records_that_are_not_dicts_need_encode_and_nothing_is_sent_without_it() -> None:
    t = AllOrNothingUsers(set())
    pairs = [("user0001", "a@x.id"), ("user0002", "b@x.id")]
    with pytest.raises(TypeError, match="tuple record needs encode="):
        send_in_batches(client(t), "core_user_create_users", "users", pairs)
    assert t.calls == []
    out = send_in_batches(client(t), "core_user_create_users", "users", pairs, encode=lambda p: {
        "username": p[0], "firstname": "A", "lastname": "B", "email": p[1], "createpassword": 1})
    assert [r for r, _ in out.done] == pairs and t.created == ["user0001", "user0002"]
