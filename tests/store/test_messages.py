"""Messages to facilitators: one per offering, day and recipient; a lost answer is never re-sent."""

from __future__ import annotations

import threading

from moodle_sync.store import Store


def test_a_sent_message_is_not_reserved_again_the_same_day(store_url: str) -> None:
    with Store.open(store_url) as store:
        m = store.reserve_message("o", "2026-08-10", "Fas@x.id", 7, "abc")
        assert m is not None and m.outcome == "unknown" and m.recipient == "fas@x.id"
        store.settle_message(m.id, "ok", msgid=42)
        assert store.reserve_message("o", "2026-08-10", "fas@x.id", 7, "abc") is None
        assert store.reserve_message("o", "2026-08-11", "fas@x.id", 7, "abc") is not None
        assert store.reserve_message("o2", "2026-08-10", "fas@x.id", 7, "abc") is not None
        assert [(r.day, r.outcome, r.msgid) for r in store.messages("o")] == [("2026-08-10", "ok", 42),
                                                                               ("2026-08-11", "unknown", None)]


def test_an_unknown_outcome_blocks_a_resend_and_a_failed_one_allows_it(store_url: str) -> None:
    with Store.open(store_url) as store:
        lost = store.reserve_message("o", "d", "a@x.id", 1, "h")
        assert lost is not None
        assert store.reserve_message("o", "d", "a@x.id", 1, "h") is None     # the answer was lost: never blindly
        failed = store.reserve_message("o", "d", "b@x.id", 2, "h")
        assert failed is not None
        store.settle_message(failed.id, "failed", detail="usercantbemessaged")
        retry = store.reserve_message("o", "d", "b@x.id", 2, "h")
        assert retry is not None and retry.id == failed.id and retry.outcome == "unknown"


def test_settling_a_lost_message_only_while_still_unknown(store_url: str) -> None:
    with Store.open(store_url) as store:
        m = store.reserve_message("o", "d", "a@x.id", 1, "h")
        assert m is not None
        store.settle_message(m.id, "unknown", detail="timeout")
        assert store.settle_message(m.id, "failed", detail="not in Moodle", expect="unknown") is True
        assert store.settle_message(m.id, "ok", msgid=5, expect="unknown") is False    # another run settled it
        assert [(r.outcome, r.msgid, r.detail) for r in store.messages("o")] == [("failed", None, "not in Moodle")]


def test_runs_retrying_a_failed_message_at_once_send_it_once(store_url: str) -> None:
    with Store.open(store_url) as store:
        m = store.reserve_message("o", "d", "a@x.id", 1, "h")
        assert m is not None
        store.settle_message(m.id, "failed", detail="usercantbemessaged")
    barrier, got, errors = threading.Barrier(6), [], []

    def retry() -> None:
        try:
            with Store.open(store_url) as mine:
                barrier.wait()
                got.append(mine.reserve_message("o", "d", "a@x.id", 1, "h"))
        except Exception as exc:  # noqa: BLE001 - a thread's error is asserted on below  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=retry) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len([r for r in got if r is not None]) == 1
