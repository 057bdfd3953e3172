"""Safe YAML that remembers where every value came from, and the deep merge used by ``extends``.

:func:`load_located_yaml` parses with PyYAML's ``SafeLoader`` (no Python objects, no code) into
:class:`LocatedDict` / :class:`LocatedList`: ordinary dicts and lists that also know the file and line of
each key or item, so validation can say ``template.yaml:14: sections[2].name: required``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import yaml

from .problems import Problem, ProblemsError

MAX_YAML_BYTES = 1_000_000


class LocatedDict(dict[Any, Any]):
    """A dict that knows the file and line of itself and of each of its keys."""

    file: str
    line: int | None
    key_lines: dict[Hashable, tuple[str, int | None]]

    def __init__(self, file: str, line: int | None) -> None:
        super().__init__()
        self.file, self.line = file, line
        self.key_lines = {}

    def where(self, key: Hashable) -> tuple[str, int | None]:
        """(file, line) of ``key``, or of this mapping when the key is absent."""
        return self.key_lines.get(key, (self.file, self.line))


class LocatedList(list[Any]):
    """A list that knows the file and line of itself and of each item."""

    file: str
    line: int | None
    item_lines: list[int | None]

    def __init__(self, file: str, line: int | None) -> None:
        super().__init__()
        self.file, self.line = file, line
        self.item_lines = []

    def where(self, index: int) -> tuple[str, int | None]:
        if 0 <= index < len(self.item_lines):
            return self.file, self.item_lines[index]
        return self.file, self.line


class _LocatedLoader(yaml.SafeLoader):
    """SafeLoader that builds Located containers and refuses duplicate keys."""

    located_file = "<string>"


def _construct_mapping(loader: _LocatedLoader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict(loader.located_file, node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if not isinstance(key, Hashable) or isinstance(key, (list, dict)):
            raise ProblemsError([Problem(loader.located_file, line, "", "a mapping key must be a plain value")])
        if key in result:
            raise ProblemsError([Problem(loader.located_file, line, str(key),
                                         f"duplicate key (first given on line {result.key_lines[key][1]})")])
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = (loader.located_file, line)
    return result


def _construct_sequence(loader: _LocatedLoader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(loader.located_file, node.start_mark.line + 1)
    for item in node.value:
        result.append(loader.construct_object(item, deep=True))
        result.item_lines.append(item.start_mark.line + 1)
    return result


_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def parse_located_yaml(text: str, file: str) -> Any:
    """Parse one YAML document safely; mappings and sequences come back Located.

    Raises :class:`ProblemsError` naming ``file`` and the line for syntax errors and duplicate keys.
    """
    loader = _LocatedLoader(text)
    loader.located_file = file
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise ProblemsError([Problem(file, line, "", f"not valid YAML: {exc.problem or exc.context}")]) from None
    except yaml.YAMLError as exc:
        raise ProblemsError([Problem(file, None, "", f"not valid YAML: {exc}")]) from None
    finally:
        loader.dispose()


def load_located_yaml(path: Path) -> Any:
    """Read and parse ``path`` (UTF-8) with :func:`parse_located_yaml`.

    Raises :class:`ProblemsError` when the file cannot be read, is too large, or is not valid YAML.
    """
    file = display_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProblemsError([Problem(file, None, "", f"cannot read: {exc.strerror}")]) from None
    if len(raw) > MAX_YAML_BYTES:
        raise ProblemsError([Problem(file, None, "", f"larger than {MAX_YAML_BYTES} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProblemsError([Problem(file, None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    return parse_located_yaml(text, file)


def deep_merge(parent: Mapping[str, Any], child: Mapping[str, Any], *,
               atomic: frozenset[str] = frozenset()) -> LocatedDict:
    """Merge ``child`` over ``parent``: mappings merge key by key, anything else (lists too) is replaced.

    A child value of ``None`` removes the inherited key. Keys in ``atomic`` are replaced whole even when
    both sides are mappings. Locations follow the value that won.
    """
    file = getattr(child, "file", "<merged>")
    result = LocatedDict(file, getattr(child, "line", None))
    for key, value in parent.items():
        result[key] = value
        result.key_lines[key] = _where(parent, key)
    for key, value in child.items():
        if value is None:
            result.pop(key, None)
            result.key_lines.pop(key, None)
            continue
        old = result.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping) and key not in atomic:
            result[key] = deep_merge(old, value)
        else:
            result[key] = value
        result.key_lines[key] = _where(child, key)
    return result


def _where(mapping: Mapping[str, Any], key: str) -> tuple[str, int | None]:
    if isinstance(mapping, LocatedDict):
        return mapping.where(key)
    return "<merged>", None
