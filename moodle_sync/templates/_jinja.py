"""The Jinja2 environment templates render in: sandboxed, StrictUndefined, HTML autoescaped.

Errors are turned into :class:`Problem` s naming the template file and line where Jinja knows it (for
``*.j2`` files, the line inside the file; for strings in ``template.yaml``, the line of the key).
"""

from __future__ import annotations

import datetime as dt
import traceback
from collections.abc import Callable, Mapping
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from .model import Pattern, TemplateFile
from .problems import Problem, TemplateError

BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember")


def tanggal(value: Any) -> str:
    """A date in Indonesian, e.g. ``6 Juli 2026`` (the ``tanggal`` filter)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        raise TypeError(f"tanggal needs a date, not {type(value).__name__}")
    return f"{value.day} {BULAN[value.month - 1]} {value.year}"


def letters(index: int) -> str:
    """Class letter for a 0-based index: 0 -> A, 25 -> Z, 26 -> AA, 27 -> AB."""
    out = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(ord("A") + rem) + out
    return out


class _MemoryLoader(jinja2.BaseLoader):
    """Serves a template's ``*.j2`` files from memory, under their real file names (for tracebacks)."""

    def __init__(self, files: Mapping[str, TemplateFile]) -> None:
        self.files = files

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        found = self.files.get(template)
        if found is None:
            raise jinja2.TemplateNotFound(template)
        return found.source, found.filename, lambda: True

    def list_templates(self) -> list[str]:
        return sorted(self.files)


class Renderer:
    """Compiles and renders a template's strings and files; every failure is a :class:`TemplateError`."""

    def __init__(self, files: Mapping[str, TemplateFile]) -> None:
        self.files = files
        self.text_env = self._environment(files, autoescape=False)
        self.html_env = self._environment(files, autoescape=True)
        self._cache: dict[tuple[str, bool], jinja2.Template] = {}

    @staticmethod
    def _environment(files: Mapping[str, TemplateFile], *, autoescape: bool) -> SandboxedEnvironment:
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=autoescape,
                                   loader=_MemoryLoader(files), trim_blocks=True, lstrip_blocks=True,
                                   keep_trailing_newline=False, auto_reload=False)
        env.filters["tanggal"] = tanggal
        return env

    def compile(self, pattern: Pattern, *, html: bool = False) -> jinja2.Template:
        """The compiled pattern; raises :class:`TemplateError` for a syntax error."""
        key = (pattern.source, html)
        if key not in self._cache:
            env = self.html_env if html else self.text_env
            try:
                self._cache[key] = env.from_string(pattern.source)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError([_pattern_problem(pattern, f"Jinja syntax error: {exc.message}",
                                                      exc.lineno)]) from None
        return self._cache[key]

    def render(self, pattern: Pattern, context: Mapping[str, Any], *, html: bool = False) -> str:
        """Render a string from ``template.yaml``; errors name its file, line and field."""
        compiled = self.compile(pattern, html=html)
        try:
            return compiled.render(context).strip()
        except Exception as exc:  # noqa: BLE001 - Jinja reports template mistakes as many exception types
            line = _template_line(exc, "<template>")
            raise TemplateError([_pattern_problem(pattern, _describe(exc), line)]) from None

    def render_file(self, name: str, context: Mapping[str, Any], *, field: str,
                    file: str, line: int | None) -> str:
        """Render the ``*.j2`` file ``name`` (autoescaped if it is HTML). Errors name the line inside it;
        ``file``/``line`` (where the file was named) are used when Jinja cannot tell."""
        template_file = self.files.get(name)
        if template_file is None:
            raise TemplateError([Problem(file, line, field, f"no template file {name!r}")])
        env = self.html_env if template_file.is_html else self.text_env
        try:
            return env.get_template(name).render(context).strip()
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or template_file.filename
            raise TemplateError([Problem(where, exc.lineno, field, f"Jinja syntax error: {exc.message}")]) from None
        except Exception as exc:  # noqa: BLE001 - a template's own mistakes come as any exception type
            filenames = {f.filename for f in self.files.values()}
            found = _file_frame(exc, filenames)
            where, at = found if found else (template_file.filename, None)
            raise TemplateError([Problem(where, at, field, _describe(exc))]) from None

    def check_file(self, name: str) -> list[Problem]:
        """Syntax problems of one ``*.j2`` file (compiling it, not rendering)."""
        template_file = self.files[name]
        env = self.html_env if template_file.is_html else self.text_env
        try:
            env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            return [Problem(exc.filename or template_file.filename, exc.lineno, "",
                            f"Jinja syntax error: {exc.message}")]
        return []


def _pattern_problem(pattern: Pattern, message: str, inner_line: int | None) -> Problem:
    line = pattern.line
    if line is not None and inner_line and inner_line > 1:
        line += inner_line  # a block scalar: its text starts on the line after the key
    return Problem(pattern.file, line, pattern.field, message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, jinja2.UndefinedError):
        return f"undefined variable: {exc.message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"not allowed in a template: {exc}"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"no template file {exc.name!r}"
    if isinstance(exc, jinja2.TemplateError):
        return str(exc.message or exc)
    return f"{type(exc).__name__}: {exc}"


def _template_line(exc: BaseException, filename: str) -> int | None:
    found = _file_frame(exc, {filename})
    return found[1] if found else None


def _file_frame(exc: BaseException, filenames: set[str]) -> tuple[str, int | None] | None:
    """(file, line) of the innermost traceback frame that belongs to one of ``filenames``."""
    hit = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename in filenames:
            hit = (frame.filename, frame.lineno)
    return hit
