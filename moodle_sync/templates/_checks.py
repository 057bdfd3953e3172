"""A small checker for Located YAML data: types, required and unknown keys, formats, all as Problems."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any

from ._yaml import LocatedDict, LocatedList
from .problems import Problem

_TYPE_NAMES = {str: "a string", bool: "true or false", int: "a whole number", dict: "a mapping",
               list: "a list"}


def plain(value: Any) -> Any:
    """``value`` with Located containers turned into ordinary dicts and lists (recursively)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def join(prefix: str, key: str | int) -> str:
    """Field path: ``sections`` + 2 -> ``sections[2]``; ``sections[2]`` + ``name`` -> ``sections[2].name``."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


class Checker:
    """Collects :class:`Problem` s while reading values out of Located mappings."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, where: tuple[str, int | None], field: str, message: str) -> None:
        self.problems.append(Problem(where[0], where[1], field, message))

    def keys(self, mapping: LocatedDict, prefix: str, allowed: Collection[str],
             required: Collection[str] = ()) -> None:
        """Report unknown keys (with a did-you-mean) and missing required keys."""
        for key in mapping:
            if key not in allowed:
                hint = difflib.get_close_matches(str(key), list(allowed), n=1)
                tip = f" (did you mean '{hint[0]}'?)" if hint else f" (allowed: {', '.join(sorted(allowed))})"
                self.add(mapping.where(key), join(prefix, str(key)), f"unknown key{tip}")
        for key in required:
            if key not in mapping or mapping[key] is None:
                self.add(mapping.where(key), join(prefix, key), "required")

    def typed(self, mapping: LocatedDict, key: str, prefix: str, kind: type, *,
              required: bool = False) -> Any:
        """``mapping[key]`` if it has type ``kind`` (bool is not an int), else ``None`` with a problem."""
        if key not in mapping or mapping[key] is None:
            if required:
                self.add(mapping.where(key), join(prefix, key), "required")
            return None
        value = mapping[key]
        ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
        if not ok:
            self.add(mapping.where(key), join(prefix, key),
                     f"must be {_TYPE_NAMES.get(kind, kind.__name__)}, not {describe(value)}")
            return None
        return value

    def text(self, mapping: LocatedDict, key: str, prefix: str, *, required: bool = False,
             pattern: re.Pattern[str] | None = None, choices: Collection[str] | None = None,
             explain: str = "") -> str | None:
        """A non-empty string, optionally matching ``pattern`` or one of ``choices``."""
        value = self.typed(mapping, key, prefix, str, required=required)
        if value is None:
            return None
        where, field = mapping.where(key), join(prefix, key)
        if not value.strip():
            self.add(where, field, "must not be empty")
            return None
        if choices is not None and value not in choices:
            self.add(where, field, f"{value!r} is not one of {', '.join(sorted(choices))}")
            return None
        if pattern is not None and not pattern.match(value):
            self.add(where, field, f"{value!r} {explain or 'has the wrong format'}")
            return None
        return value

    def mapping(self, mapping: LocatedDict, key: str, prefix: str, *,
                required: bool = False) -> LocatedDict | None:
        return self.typed(mapping, key, prefix, dict, required=required)

    def sequence(self, mapping: LocatedDict, key: str, prefix: str, *,
                 required: bool = False) -> LocatedList | None:
        return self.typed(mapping, key, prefix, list, required=required)


def describe(value: Any) -> str:
    """A short description of a YAML value's type for messages ("a list", "the number 3", ...)."""
    if isinstance(value, bool):
        return f"{str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_variables(c: Checker, document: Any) -> dict[str, Any]:
    """The ``variables`` mapping of a template or offering, its names checked (letters, digits, ``_``)."""
    variables = c.mapping(document, "variables", "")
    if variables is None:
        return {}
    for key in variables:
        if not isinstance(key, str) or not VARIABLE_RE.match(key):
            c.add(variables.where(key), join("variables", str(key)),
                  "variable names are letters, digits and '_' (not starting with a digit)")
    return plain(variables)
