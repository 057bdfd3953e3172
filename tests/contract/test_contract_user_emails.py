"""E-mails as Moodle compares them: ``core_user_get_users_by_field`` matches an e-mail exactly (on
PostgreSQL a capital letter makes it miss), ``core_user_get_users`` matches it ignoring case, and
``core_user_create_users`` refuses an address that differs from an existing one only in case. Enrolment
relies on all three (it matches a teacher whose account has capitals in its e-mail instead of creating a
second one)."""

from __future__ import annotations

import pytest

from moodle_sync.exceptions import InvalidParameterError

from .conftest import Site

pytestmark = pytest.mark.contract


def test_emails_are_matched_exactly_by_field_and_ignoring_case_by_criteria(site: Site) -> None:
    [record] = site.user_records(1)
    record["email"] = f"Sri.{site.tag}@Example.ORG"
    [created] = site.moodle.call("core_user_create_users", {"users": [record]})
    lower = record["email"].lower()

    assert site.moodle.call("core_user_get_users_by_field", {"field": "email", "values": [lower]}) == []
    found = site.moodle.call("core_user_get_users", {"criteria": [{"key": "email", "value": lower}]})
    assert [u["id"] for u in found["users"]] == [created["id"]]
    assert found["users"][0]["email"] == record["email"]


def test_an_address_differing_only_in_case_is_refused(site: Site) -> None:
    first, second = site.user_records(2)
    first["email"] = f"Sri.{site.tag}@Example.ORG"
    second["email"] = first["email"].lower()
    site.moodle.call("core_user_create_users", {"users": [first]})

    with pytest.raises(InvalidParameterError):
        site.moodle.call("core_user_create_users", {"users": [second]})
    assert site.moodle.users_by_field("username", [second["username"]]) == []
