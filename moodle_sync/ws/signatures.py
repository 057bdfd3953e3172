"""The real Moodle 4.5 web-service signatures, and checks of what we send against them.

``data/functions-4.5.json`` was read off a real Moodle 4.5.6 site (see tests/fixtures). Each function
has ``parameters_desc`` and ``returns_desc``: trees of ``value`` / ``single_structure`` (keys) /
``multiple_structure`` (content) nodes with a Moodle ``PARAM_*`` type and required / optional / default.

:func:`check_params` is the client-side guard (Python values); :func:`check_returns` validates a
decoded answer (used by the sandbox tests so the fake cannot drift from the real shapes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from ..exceptions import RequestShapeError

INT_TYPES = {"int", "integer"}
FLOAT_TYPES = {"float", "localisedfloat"}
BOOL_TYPES = {"bool", "boolean"}


@lru_cache(maxsize=1)
def load_signatures() -> dict[str, dict[str, Any]]:
    """All function signatures of the real 4.5 service, by function name."""
    text = resources.files("moodle_sync.ws").joinpath("data/functions-4.5.json").read_text("utf-8")
    return json.loads(text)["functions"]


def signature(function: str) -> dict[str, Any]:
    """The signature of one function; :class:`RequestShapeError` if Moodle 4.5 has no such function."""
    try:
        return load_signatures()[function]
    except KeyError:
        raise RequestShapeError(f"{function}: not a web-service function of Moodle 4.5") from None


def check_params(function: str, params: Mapping[str, Any]) -> None:
    """Raise :class:`RequestShapeError` unless ``params`` fit the function's parameter signature.

    Unknown keys, missing required keys and values of the wrong Python type all fail, with the path
    of the offending value (``users[3].email``).
    """
    desc = signature(function)["parameters_desc"]
    _check(function, desc, dict(params), "", allow_missing=False)


def _check(function: str, desc: Mapping[str, Any], value: Any, path: str, *, allow_missing: bool) -> None:
    kind = desc["kind"]
    where = path or "parameters"
    if value is None:
        if desc.get("allownull") or allow_missing:
            return
        raise RequestShapeError(f"{function}: {where}: None is not allowed")
    if kind == "single_structure":
        if not isinstance(value, Mapping):
            raise RequestShapeError(f"{function}: {where}: expected a structure, got {type(value).__name__}")
        keys = desc["keys"]
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise RequestShapeError(f"{function}: {where}: unexpected keys {unknown}")
        for name, sub in keys.items():
            sub_path = f"{path}.{name}" if path else name
            if name not in value:
                if sub["required"] == "required":
                    raise RequestShapeError(f"{function}: {sub_path}: missing required key")
                continue
            _check(function, sub, value[name], sub_path, allow_missing=sub["required"] != "required")
    elif kind == "multiple_structure":
        if not isinstance(value, (list, tuple)):
            raise RequestShapeError(f"{function}: {where}: expected a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            _check(function, desc["content"], item, f"{path}[{i}]", allow_missing=False)
    else:
        _check_scalar(function, desc.get("type", "raw"), value, where)


def _check_scalar(function: str, ptype: str, value: Any, where: str) -> None:
    if isinstance(value, (Mapping, list, tuple)):
        raise RequestShapeError(f"{function}: {where}: expected a {ptype} value, got {type(value).__name__}")
    if ptype in BOOL_TYPES:
        ok = isinstance(value, bool) or value in (0, 1)
    elif ptype in INT_TYPES:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ptype in FLOAT_TYPES:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    else:
        ok = isinstance(value, (str, int, float)) and not isinstance(value, bool)
    if not ok:
        raise RequestShapeError(f"{function}: {where}: {value!r} is not a valid {ptype}")


def check_returns(function: str, value: Any) -> list[str]:
    """Compare a decoded answer with the function's ``returns_desc``; return the list of mismatches."""
    desc = signature(function)["returns_desc"]
    problems: list[str] = []
    if desc is None:
        if value is not None:
            problems.append("expected null")
        return problems
    _check_return(desc, value, "", problems)
    return problems


def _check_return(desc: Mapping[str, Any], value: Any, path: str, problems: list[str]) -> None:
    where = path or "result"
    if value is None:
        if not (desc.get("allownull") or desc.get("required") != "required"):
            problems.append(f"{where}: null not allowed")
        return
    kind = desc["kind"]
    if kind == "single_structure":
        if not isinstance(value, Mapping):
            problems.append(f"{where}: expected object")
            return
        for extra in sorted(set(value) - set(desc["keys"])):
            problems.append(f"{where}.{extra}: not in the signature")
        for name, sub in desc["keys"].items():
            sub_path = f"{path}.{name}" if path else name
            if name not in value:
                if sub["required"] == "required":
                    problems.append(f"{sub_path}: missing")
                continue
            _check_return(sub, value[name], sub_path, problems)
    elif kind == "multiple_structure":
        if not isinstance(value, list):
            problems.append(f"{where}: expected list")
            return
        for i, item in enumerate(value):
            _check_return(desc["content"], item, f"{path}[{i}]", problems)
    else:
        ptype = desc.get("type", "raw")
        if isinstance(value, (Mapping, list)):
            problems.append(f"{where}: expected {ptype} value")
        elif ptype in INT_TYPES and not isinstance(value, int):
            problems.append(f"{where}: expected int, got {value!r}")
        elif ptype in BOOL_TYPES and not isinstance(value, (bool, int)):
            problems.append(f"{where}: expected bool, got {value!r}")
        elif ptype in FLOAT_TYPES and not isinstance(value, (int, float)):
            problems.append(f"{where}: expected float, got {value!r}")


def count_form_fields(value: Any) -> int:
    """How many form fields ``value`` becomes in PHP-style encoding (what ``max_input_vars`` counts)."""
    if value is None:
        return 0
    if isinstance(value, Mapping):
        return sum(count_form_fields(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(count_form_fields(v) for v in value)
    return 1
