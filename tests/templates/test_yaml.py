"""The located YAML loader and the extends merge."""

from __future__ import annotations

import pytest

from moodle_sync.templates import ProblemsError
from moodle_sync.templates._yaml import LocatedDict, deep_merge, parse_located_yaml

TEXT = """\
a: 1
b:
  c: [x, y]
  d:
    - e: 2
"""


def test_lines_of_keys_and_items_are_kept() -> None:
    doc = parse_located_yaml(TEXT, "f.yaml")
    assert isinstance(doc, LocatedDict) and doc.where("a") == ("f.yaml", 1)
    assert doc["b"].where("c") == ("f.yaml", 3) and doc["b"]["c"].where(1) == ("f.yaml", 3)
    assert doc["b"]["d"].where(0) == ("f.yaml", 5) and doc["b"]["d"][0].where("e") == ("f.yaml", 5)
    assert doc.where("missing") == ("f.yaml", 1)


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(ProblemsError, match=r"^f.yaml:3: a: duplicate key \(first given on line 1\)$"):
        parse_located_yaml("a: 1\nb: 2\na: 3\n", "f.yaml")


def test_python_tags_are_refused() -> None:
    with pytest.raises(ProblemsError, match="not valid YAML"):
        parse_located_yaml("a: !!python/name:os.system\n", "f.yaml")


def test_deep_merge() -> None:
    parent = parse_located_yaml("m: {a: 1, b: {c: 2, d: 3}}\nl: [1, 2]\nx: {k: v}\ngone: 1\n", "p.yaml")
    child = parse_located_yaml("m: {b: {c: 20}}\nl: [9]\nx: {j: w}\ngone: null\n", "c.yaml")
    merged = deep_merge(parent, child, atomic=frozenset({"x"}))
    assert merged == {"m": {"a": 1, "b": {"c": 20, "d": 3}}, "l": [9], "x": {"j": "w"}}
    assert merged["m"]["b"].where("c") == ("c.yaml", 1) and merged["m"]["b"].where("d") == ("p.yaml", 1)
    assert merged.where("l") == ("c.yaml", 2)
    assert parent["m"]["b"]["c"] == 2                                  # inputs untouched
