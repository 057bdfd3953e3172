"""``check_templates``: load every template found and try-render each against sample offerings."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._discovery import discover
from ._load import load_template
from ._render import render_offering
from .problems import Problem, ProblemsError, TemplateError

if TYPE_CHECKING:
    from ..offerings import Offering


def sample_offerings(template_name: str) -> list[Offering]:
    """Two made-up offerings for trying a template: one course per regency for all 15 regencies with two
    classes each, and a single course. No facilitators."""
    from ..offerings import parse_offering

    common = {"template": template_name, "title": "Contoh Pelatihan", "batch": "Angkatan 1",
              "start": dt.date(2026, 7, 6), "end": dt.date(2026, 9, 30),
              "category": "BGTK Lampung / 2026 / Contoh", "seats": 900, "class_size": 30}
    return [parse_offering({**common, "id": "contoh-2026-a1", "courses": "per-regency"}, file="<sample>"),
            parse_offering({**common, "id": "contoh-2026-a2", "courses": "single", "seats": 60},
                           file="<sample>")]


def check_templates(extra_dirs: Sequence[str | os.PathLike[str]] = (), *,
                    offering: Offering | None = None) -> list[Problem]:
    """Every problem of every template found (discovery, YAML, schema, Jinja, rendered values).

    Each renderable template is rendered against :func:`sample_offerings` (and ``offering`` when given,
    e.g. the user's own offering file). An empty list means all is well. Raises nothing for template
    problems; they are returned.
    """
    sources, problems = discover(extra_dirs)
    for name in sources:
        try:
            template = load_template(name, sources=sources)
        except ProblemsError as exc:
            problems += exc.problems
            continue
        if template.abstract:
            continue
        trials = sample_offerings(name) + ([offering] if offering is not None else [])
        for trial in trials:
            try:
                render_offering(trial, template)
            except TemplateError as exc:
                problems += [p for p in exc.problems if p not in problems]
    return problems
