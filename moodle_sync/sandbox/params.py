"""PHP's form parsing and Moodle's ``external_api::validate_parameters``, reproduced.

:func:`parse_php_form` turns ``a[0][b]=1&a[][c]=2`` into nested arrays exactly as PHP fills
``$_POST`` (numeric keys become ints, ``[]`` appends a new element, fields past ``max_input_vars``
are silently dropped). :func:`validate_parameters` then cleans that tree against a function's real
signature, raising :func:`~moodle_sync.sandbox.errors.invalid_parameter` with Moodle's own
``debuginfo`` texts ("Unexpected keys (foo) detected in parameter array.", "Missing required key in
single structure: x", ...), and returns plain Python values: ``dict`` for structures, ``list`` for
lists, ``int``/``float``/``bool``/``str`` for values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

from .errors import SandboxMoodleError, invalid_parameter

INSTALLED_LANGS = frozenset({"en", "id"})
THEMES = frozenset({"boost", "classic"})
AUTH_PLUGINS = frozenset({"cas", "db", "email", "ldap", "lti", "manual", "mnet", "nologin", "none", "oauth2",
                          "shibboleth", "webservice"})

_INT = re.compile(r"(0|-?[1-9][0-9]*)")
_FLOAT = re.compile(r"[+-]?[0-9]*\.?[0-9]*(e[-+]?[0-9]+)?", re.IGNORECASE)
_NUMERIC = re.compile(r"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)(e[-+]?[0-9]+)?\s*", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>?")
_LANG_TAG = re.compile(r"</?(lang|span)(\s+lang=\"[a-zA-Z0-9_-]+\")?(\s+class=\"multilang\")?\s*>")
_PLUGIN = re.compile(r"[a-z](?:[a-z0-9_](?!__))*[a-z0-9]+")
_COMPONENT = re.compile(r"[a-z][a-z0-9]*(_[a-z][a-z0-9_]*)?[a-z0-9]+")
_TIMEZONE = re.compile(r"(([+-]?(0?[0-9](\.[5|0])?|1[0-3](\.0)?|1[0-2]\.5))|(99)|[a-zA-Z0-9]+(/?[a-zA-Z_-])+)")
INT64 = 2 ** 63


class PhpArray(dict[Any, Any]):
    """A PHP array: an ordered dict with int or str keys that remembers its next free int index."""

    next_index: int = 0


def php_key(text: str) -> int | str:
    """A PHP array key: canonical decimal integers become ints, anything else stays a string."""
    if _INT.fullmatch(text) and -INT64 <= int(text) < INT64:
        return int(text)
    return text


def parse_php_form(body: str, max_input_vars: int, into: PhpArray | None = None) -> PhpArray:
    """Parse an ``application/x-www-form-urlencoded`` body (or query string) the way PHP does.

    Only the first ``max_input_vars`` fields are kept; the rest are dropped without an error, as PHP
    does. Returns ``into`` (or a new array) filled with the fields.
    """
    result = into if into is not None else PhpArray()
    count = 0
    for part in body.split("&"):
        if not part:
            continue
        count += 1
        if count > max_input_vars:
            break
        name, _, value = part.partition("=")
        _register(result, unquote_plus(name), unquote_plus(value))
    return result


def parse_pairs(pairs: Iterable[tuple[str, str]], max_input_vars: int) -> PhpArray:
    """Like :func:`parse_php_form` for already decoded ``(name, value)`` pairs."""
    result = PhpArray()
    for count, (name, value) in enumerate(pairs, start=1):
        if count > max_input_vars:
            break
        _register(result, name, value)
    return result


def _register(target: PhpArray, name: str, value: str) -> None:
    name = name.lstrip(" ")
    bracket = name.find("[")
    base = name if bracket < 0 else name[:bracket]
    base = base.replace(" ", "_").replace(".", "_")
    if not base:
        return
    keys: list[str | None] = []
    rest = "" if bracket < 0 else name[bracket:]
    while rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            if not keys:  # an unmatched '[' in the base name becomes '_' (PHP) and ends parsing
                base = base + "_" + rest[1:].replace(" ", "_").replace(".", "_")
            break
        inner = rest[1:close]
        keys.append(inner if inner != "" else None)
        rest = rest[close + 1:]
    path: list[str | None] = [base, *keys]
    node = target
    for i, key in enumerate(path):
        last = i == len(path) - 1
        if key is None:
            index: int | str = node.next_index
        else:
            index = php_key(key)
        if isinstance(index, int) and index >= node.next_index:
            node.next_index = index + 1
        if last:
            node[index] = value
        else:
            child = node.get(index)
            if not isinstance(child, PhpArray):
                child = PhpArray()
                node[index] = child
            node = child


# ----------------------------------------------------------------------------- validation
def validate_parameters(desc: Mapping[str, Any], value: Any) -> Any:
    """Clean ``value`` against a signature node like Moodle's ``validate_parameters``.

    Raises :class:`SandboxMoodleError` (``invalidparameter``) with Moodle's debuginfo text.
    """
    kind = desc["kind"]
    if kind == "value":
        if isinstance(value, (Mapping, list, tuple)):
            raise invalid_parameter("Scalar type expected, array or object received.")
        ptype = desc.get("type", "raw")
        if ptype in ("bool", "boolean") and (isinstance(value, bool) or value in (0, 1, "0", "1")):
            return bool(int(value))
        debuginfo = (f'Invalid external api parameter: the value is "{php_string(value)}", '
                     f'the server was expecting "{ptype}" type')
        return validate_param(value, ptype, bool(desc.get("allownull")), debuginfo)
    if not isinstance(value, (Mapping, list, tuple)):
        raise invalid_parameter(f"Only arrays accepted. The bad value is: '{php_string(value)}'")
    if kind == "single_structure":
        items = dict(enumerate(value)) if isinstance(value, (list, tuple)) else dict(value)
        result: dict[str, Any] = {}
        for key, sub in desc["keys"].items():
            if key not in items:
                if sub["required"] == "required":
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub["required"] == "default":
                    result[key] = _nested(key, sub, sub.get("default"))
                continue
            result[key] = _nested(key, sub, items.pop(key))
        if items:
            raise invalid_parameter(f"Unexpected keys ({', '.join(str(k) for k in items)}) detected in "
                                    "parameter array.")
        return result
    values = list(value.values()) if isinstance(value, Mapping) else list(value)
    return [validate_parameters(desc["content"], item) for item in values]


def _nested(key: str, desc: Mapping[str, Any], value: Any) -> Any:
    try:
        return validate_parameters(desc, value)
    except SandboxMoodleError as exc:
        raise invalid_parameter(f"{key} => {exc.message}: {exc.debuginfo}") from None


def php_string(value: Any) -> str:
    """PHP's ``(string)`` of a scalar: ``true`` is "1", ``false`` and ``null`` are ""."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (Mapping, list, tuple)):
        return "Array"
    return str(value)


def validate_param(value: Any, ptype: str, allownull: bool, debuginfo: str) -> Any:
    """Moodle's ``validate_param``: clean, and reject if cleaning changed the value."""
    if value is None:
        if allownull:
            return None
        raise invalid_parameter(debuginfo)
    if ptype in ("float", "localisedfloat"):
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, (int, float)):
            return float(value)
        text = str(value)
        if not _NUMERIC.fullmatch(text) or not _FLOAT.fullmatch(text):
            raise invalid_parameter(debuginfo)
        return float(text)
    text = php_string(value)
    cleaned = clean_param(text, ptype)
    if php_string(cleaned) != text:
        raise invalid_parameter(debuginfo)
    return cleaned


def _clean_int(text: str) -> int | str:
    if _INT.fullmatch(text) and -INT64 <= int(text) < INT64:
        return int(text)
    return f"\x00{text}"  # never equal to the input: rejected


def _clean_bool(text: str) -> int:
    low = text.strip().lower()
    if low in ("on", "yes", "true"):
        return 1
    if low in ("off", "no", "false"):
        return 0
    return 0 if text in ("", "0") else 1


def _keep_if(pattern: re.Pattern[str]) -> Callable[[str], str]:
    return lambda text: text if text == "" or pattern.fullmatch(text) else ""


def _clean_text(text: str) -> str:
    protected = _LANG_TAG.sub("", text)
    return text if _TAG.sub("", protected) == protected else _TAG.sub("", text)


def _clean_username(text: str) -> str:
    return re.sub(r"[^-.@_a-z0-9]", "", text.strip().lower())


_CLEANERS: dict[str, Callable[[str], Any]] = {
    "int": _clean_int,
    "integer": _clean_int,
    "bool": _clean_bool,
    "boolean": _clean_bool,
    "raw": lambda t: t,
    "url": lambda t: t,
    "localurl": lambda t: t,
    "tag": lambda t: t,
    "tagli": lambda t: t,
    "raw_trimmed": lambda t: t.strip(" \t\n\r\0\x0b"),
    "text": _clean_text,
    "notags": lambda t: _TAG.sub("", t),
    "alpha": lambda t: re.sub(r"[^a-zA-Z]", "", t),
    "alphaext": lambda t: re.sub(r"[^a-zA-Z/_-]", "", t),
    "alphanum": lambda t: re.sub(r"[^a-zA-Z0-9]", "", t),
    "alphanumext": lambda t: re.sub(r"[^a-zA-Z0-9_-]", "", t),
    "sequence": lambda t: re.sub(r"[^0-9,]", "", t),
    "safedir": lambda t: re.sub(r"[^a-zA-Z0-9_-]", "", t),
    "safepath": lambda t: re.sub(r"[^a-zA-Z0-9/_-]", "", t),
    "username": _clean_username,
    "plugin": _keep_if(_PLUGIN),
    "area": _keep_if(_PLUGIN),
    "component": lambda t: t if t == "moodle" else _keep_if(_COMPONENT)(t),
    "auth": lambda t: t if t in AUTH_PLUGINS else "",
    "lang": lambda t: t if t in INSTALLED_LANGS else "",
    "theme": lambda t: t if t in THEMES else "",
    "timezone": _keep_if(_TIMEZONE),
    "file": lambda t: re.sub(r"[\x00-\x1f\"*/:<>?\\|]", "", t),
    "path": lambda t: re.sub(r"[\x00-\x1f\"*:<>?|]", "", t),
}


def clean_param(text: str, ptype: str) -> Any:
    """Moodle's ``clean_param`` for the PARAM types the 4.5 service uses (unknown types: raw)."""
    return _CLEANERS.get(ptype, _CLEANERS["raw"])(text)
