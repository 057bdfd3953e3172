"""Every declared function exists in the real Moodle 4.5 service with the declared kind and batch key."""

from __future__ import annotations

import pytest

from moodle_sync.ws.functions import FEATURES, FUNCTIONS, Kind, required_for
from moodle_sync.ws.signatures import load_signatures


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_declaration_matches_real_signature(name: str) -> None:
    real = load_signatures()[name]
    decl = FUNCTIONS[name]
    assert real["type"] == decl.kind.value, f"{name} is a {real['type']} function in Moodle 4.5"
    assert not real["deprecated"]
    if decl.batch_key:
        key = real["parameters_desc"]["keys"][decl.batch_key]
        assert key["kind"] == "multiple_structure", f"{name}.{decl.batch_key} is not a list in Moodle"


def test_every_feature_needs_site_info_free_functions_only_from_the_service() -> None:
    names = set(load_signatures())
    for feature in FEATURES:
        assert set(required_for(feature)) <= names
        assert required_for(feature), feature


def test_reads_and_writes_are_declared() -> None:
    assert FUNCTIONS["core_user_create_users"].kind is Kind.WRITE
    assert FUNCTIONS["core_user_create_users"].all_or_nothing
    assert FUNCTIONS["core_enrol_get_enrolled_users"].is_read
