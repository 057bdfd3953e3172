"""Where templates come from, in order of precedence (the first folder of a name wins):

1. directories given by the caller (``--templates DIR``, then ``settings.templates_dir``);
2. installed packages, through the entry-point group ``moodle_sync.templates``: each entry point loads
   to a directory (a ``str``/``Path``, a callable returning one, or a module whose folder is meant);
3. the templates shipped with moodle_sync (the package ``moodle_sync.course_templates``, built from the
   repository's ``course_templates/`` folder).

Each of these is a *templates root*: a folder of ``<name>/template.yaml`` folders.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType
from typing import Any

from .model import TEMPLATE_FILE, TemplateSource
from .problems import Problem

log = logging.getLogger("moodle_sync.templates")

ENTRY_POINT_GROUP = "moodle_sync.templates"
SHIPPED_PACKAGE = "moodle_sync.course_templates"
SHIPPED_FOLDER = "course_templates"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def shipped_templates_dir() -> Path | None:
    """The templates shipped with moodle_sync, or ``None`` if they are missing (a broken install).

    They are the package ``moodle_sync.course_templates`` (the repository's ``course_templates/`` folder,
    mapped into the package by setup.cfg), found with :mod:`importlib.resources` in a wheel or an editable
    install. A source tree that was never installed cannot import that package: the folder beside
    ``moodle_sync/`` is used then.
    """
    try:
        shipped = resources.files(SHIPPED_PACKAGE)
    except ModuleNotFoundError:
        shipped = Path(__file__).resolve().parents[2] / SHIPPED_FOLDER
    if isinstance(shipped, Path) and shipped.is_dir():
        return shipped
    return None  # absent, or inside a zip file (templates are read as files: install unzipped)


def _resolve_entry_point_value(value: Any) -> Path:
    if isinstance(value, ModuleType):
        if getattr(value, "__file__", None):
            return Path(value.__file__).resolve().parent  # type: ignore[arg-type]
        return Path(next(iter(value.__path__)))  # namespace package
    if callable(value):
        value = value()
    if isinstance(value, (str, os.PathLike)):
        return Path(value)
    raise TypeError(f"resolves to {type(value).__name__}, not a directory path")


def entry_point_roots() -> tuple[list[tuple[Path, str]], list[Problem]]:
    """Template roots registered by installed packages, with problems for entry points that fail."""
    roots: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "?"
        label = f"entry point {dist}:{ep.name}"
        try:
            path = _resolve_entry_point_value(ep.load())
        except Exception as exc:  # noqa: BLE001 - a broken plug-in must not break discovery
            problems.append(Problem(label, None, ep.value, f"cannot load: {type(exc).__name__}: {exc}"))
            continue
        if not path.is_dir():
            problems.append(Problem(label, None, ep.value, f"{path} is not a directory"))
            continue
        roots.append((path, label))
    return roots, problems


def discover(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> tuple[dict[str, TemplateSource],
                                                                          list[Problem]]:
    """Every template found, by name (first root wins), and problems met on the way."""
    roots: list[tuple[Path, str]] = []
    problems: list[Problem] = []
    for d in extra_dirs:
        path = Path(d).expanduser()
        if not path.is_dir():
            problems.append(Problem(str(path), None, "", "templates directory not found"))
            continue
        roots.append((path, "directory"))
    ep_roots, ep_problems = entry_point_roots()
    roots += ep_roots
    problems += ep_problems
    shipped = shipped_templates_dir()
    if shipped is not None:
        roots.append((shipped, "shipped"))
    else:
        log.warning("the shipped course_templates folder was not found")
    found: dict[str, TemplateSource] = {}
    for root, origin in roots:
        for folder in sorted(root.iterdir()):
            if not (folder / TEMPLATE_FILE).is_file():
                continue
            name = folder.name
            if not NAME_RE.match(name):
                problems.append(Problem(str(folder), None, "", "template folder names must be lower-case "
                                        "letters, digits, '-' or '_'"))
                continue
            if name in found:
                if found[name].path.resolve() != folder.resolve():
                    found[name] = replace(found[name], shadows=found[name].shadows + (folder,))
                continue
            found[name] = TemplateSource(name, folder, origin)
    return found, problems


def find_templates(extra_dirs: Sequence[str | os.PathLike[str]] = ()) -> dict[str, TemplateSource]:
    """Every available template by name; ``extra_dirs`` come first (and hide same-named ones).

    Raises :class:`~moodle_sync.exceptions.InputError` if a directory in ``extra_dirs`` does not exist;
    broken entry points are logged and skipped (``check_templates`` reports them).
    """
    from .problems import TemplateError

    missing = [Problem(str(d), None, "", "templates directory not found")
               for d in extra_dirs if not Path(d).expanduser().is_dir()]
    if missing:
        raise TemplateError(missing)
    found, problems = discover(extra_dirs)
    for p in problems:
        log.warning("%s", p)
    return found


def template_source(name: str, sources: Mapping[str, TemplateSource], *,
                    where: tuple[str, int | None] | None = None) -> TemplateSource:
    """The template ``name`` among ``sources`` (from :func:`find_templates`), or a path to a template folder.

    ``where`` is the ``(file, line)`` the name was written at (an offering's ``template:``); an unknown name
    raises :class:`~moodle_sync.templates.problems.TemplateError` naming that file and line and the
    templates there are.
    """
    from .problems import TemplateError

    if name in sources:
        return sources[name]
    path = Path(name).expanduser()
    if ("/" in name or os.sep in name or name.startswith(".")) and (path / TEMPLATE_FILE).is_file():
        return TemplateSource(path.resolve().name, path, "directory")
    known = ", ".join(sorted(sources)) or "none"
    file, line = where or ("", None)
    raise TemplateError([Problem(file, line, "template", f"unknown template {name!r} (known: {known})")])


def template_dirs(cli_dirs: Sequence[str | os.PathLike[str]] = (), settings_dir: str | None = None) -> list[str]:
    """The extra template directories in precedence order: ``--templates`` flags, then the setting
    (``templates_dir``, which may hold several paths separated by ``os.pathsep``)."""
    dirs = [str(d) for d in cli_dirs]
    if settings_dir:
        dirs += [d for d in settings_dir.split(os.pathsep) if d]
    return dirs
