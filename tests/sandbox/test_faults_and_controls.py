"""Injected transport faults seen through the real client, and the HTTP control endpoints."""

from __future__ import annotations

import pytest
import requests

from moodle_sync.exceptions import RateLimitedError, ServerError, WriteOutcomeUnknownError
from moodle_sync.sandbox.server import SandboxServer
from moodle_sync.ws.rest import RestTransport
from moodle_sync.ws.transport import MoodleClient, RetryPolicy

READ = ("core_course_get_courses_by_field", {"field": "shortname", "value": "MASTER-AI"})
NEW_USER = {"users": [{"username": "guru1", "password": "Rahasia#2026", "firstname": "Guru", "lastname": "Satu",
                       "email": "guru1@guru.belajar.id"}]}


def control(server: SandboxServer, action: str, **arguments: object) -> requests.Response:
    return requests.post(f"{server.url}/_sandbox/{action}", json=arguments, timeout=10)


def test_reads_are_retried_through_500_and_429(sandbox: SandboxServer, client: MoodleClient) -> None:
    sandbox.control.inject_fault(READ[0], "http500")
    sandbox.control.inject_fault(READ[0], "http429")
    assert client.call(*READ)["courses"][0]["shortname"] == "MASTER-AI"
    assert sandbox.control.call_counts()[READ[0]] == 3
    assert client.stats.by_function[READ[0]].retries == 2


def test_the_raw_fault_answers(sandbox: SandboxServer) -> None:
    transport = RestTransport(sandbox.url, sandbox.token)
    sandbox.control.inject_fault(READ[0], "http429", times=2)
    for _ in range(2):
        with pytest.raises(RateLimitedError) as info:
            transport.send(*READ, timeout=5)
        assert info.value.retry_after == 1.0
    sandbox.control.inject_fault("*", "http500")
    with pytest.raises(ServerError):
        transport.send("core_webservice_get_site_info", {}, timeout=5)
    assert transport.send(*READ, timeout=5)["courses"]


def test_a_timeout_is_retried_for_reads(sandbox: SandboxServer) -> None:
    sandbox.control.inject_fault(READ[0], "timeout", seconds=5)
    with MoodleClient(RestTransport(sandbox.url, sandbox.token), timeout=0.3,
                      retry=RetryPolicy(attempts=2, backoff=0.01)) as quick:
        assert quick.call(*READ)["courses"]
        assert quick.stats.by_function[READ[0]].errors == 1


def test_apply_then_drop_leaves_a_write_whose_outcome_is_unknown(sandbox: SandboxServer,
                                                                  client: MoodleClient) -> None:
    sandbox.control.inject_fault("core_user_create_users", "apply_then_drop")
    with pytest.raises(WriteOutcomeUnknownError):
        client.call("core_user_create_users", NEW_USER)
    found = client.call("core_user_get_users_by_field", {"field": "username", "values": ["guru1"]})
    assert [u["username"] for u in found] == ["guru1"]  # it did happen


def test_an_import_that_outlives_the_client_timeout_is_done_but_unknown_to_the_client(
        sandbox: SandboxServer) -> None:
    master = sandbox.state.courses.first("shortname", "MASTER-AI")
    target = sandbox.moodle.call("core_course_create_courses", {"courses": [
        {"fullname": "AI 1", "shortname": "AI-1", "categoryid": 1, "newsitems": 0}]})[0]["id"]
    sandbox.control.inject_fault("core_course_import_course", "apply_then_timeout", seconds=30)

    with MoodleClient(RestTransport(sandbox.url, sandbox.token), timeout=0.5,
                      retry=RetryPolicy(attempts=3, backoff=0.01)) as quick:
        with pytest.raises(WriteOutcomeUnknownError):
            quick.call("core_course_import_course", {"importfrom": master.id, "importto": target})
        contents = quick.call("core_course_get_contents", {"courseid": target})

    assert "pretest" in {m["name"].lower() for s in contents for m in s["modules"]}
    assert sandbox.control.call_counts()["core_course_import_course"] == 1  # a write is never re-sent


def test_a_500_on_a_write_does_not_apply_it(sandbox: SandboxServer, client: MoodleClient) -> None:
    sandbox.control.inject_fault("core_user_create_users", "http500")
    with pytest.raises(WriteOutcomeUnknownError):
        client.call("core_user_create_users", NEW_USER)
    assert client.call("core_user_get_users_by_field", {"field": "username", "values": ["guru1"]}) == []
    assert client.call("core_user_create_users", NEW_USER)[0]["username"] == "guru1"


def test_latency_is_a_setting_not_a_failure(sandbox: SandboxServer, client: MoodleClient) -> None:
    sandbox.control.set_latency(5)
    assert sandbox.moodle.latency_ms == 5.0
    assert client.call(*READ)["courses"]


def test_controls_over_http(sandbox: SandboxServer) -> None:
    info = control(sandbox, "info").json()["result"]
    assert info == {"url": sandbox.url, "token": sandbox.token, "limited_token": sandbox.limited_token}
    assert control(sandbox, "inject_fault", function=READ[0], kind="http500").json() == {"result": None}
    assert requests.post(sandbox.url + "/webservice/rest/server.php", timeout=10, data={
        "wstoken": sandbox.token, "wsfunction": READ[0], "moodlewsrestformat": "json"}).status_code == 500
    report = control(sandbox, "create_participants_report").json()["result"]
    assert isinstance(report, int)
    assert control(sandbox, "call_counts").json()["result"] == {READ[0]: 1}
    token = control(sandbox, "make_token", functions=["core_webservice_get_site_info"]).json()["result"]
    assert len(token) == 32
    bad = control(sandbox, "inject_fault", function="x", kind="explode")
    assert bad.status_code == 400 and "explode" in bad.json()["error"]
    assert control(sandbox, "inject_fault", nonsense=1).status_code == 400
    assert control(sandbox, "self_destruct").status_code == 404
    assert control(sandbox, "reset").json() == {"result": None}
    assert control(sandbox, "call_counts").json()["result"] == {}


def test_reset_keeps_tokens_and_restores_the_seed(sandbox: SandboxServer, client: MoodleClient) -> None:
    token = sandbox.token
    client.call("core_user_create_users", NEW_USER)
    sandbox.control.reset()
    assert sandbox.token == token
    assert client.call("core_user_get_users_by_field", {"field": "username", "values": ["guru1"]}) == []


def test_front_page_and_unknown_paths(sandbox: SandboxServer) -> None:
    assert requests.get(sandbox.url + "/login/index.php", timeout=10).status_code == 200
    assert requests.get(sandbox.url + "/nope", timeout=10).status_code == 404


def test_soap_requests_reach_the_same_site(sandbox: SandboxServer) -> None:
    pytest.importorskip("moodle_sync.sandbox.soap_endpoint")
    pytest.importorskip("moodle_sync.ws.soap")
    from moodle_sync.ws import make_transport

    with MoodleClient(make_transport(sandbox.url, sandbox.token, protocol="soap"), timeout=10) as soap:
        created = soap.call("core_user_create_users", NEW_USER)
        assert created[0]["username"] == "guru1"
        found = soap.call("core_user_get_users_by_field", {"field": "username", "values": ["guru1"]})
        assert found[0]["id"] == created[0]["id"]
    assert sandbox.control.call_counts()["core_user_create_users"] == 1
