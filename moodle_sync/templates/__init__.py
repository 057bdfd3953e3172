"""Course templates: find, load (safe YAML, ``extends``), validate, and render offerings into desired state.

A template is a folder ``<name>/template.yaml`` plus ``*.j2`` files (see :mod:`._load` for the schema).
Strings and files are Jinja2, rendered in a sandbox with ``StrictUndefined`` (a missing variable is an
error naming file:line: field); HTML files are autoescaped. The public API:

- :func:`find_templates` — every template available, by name;
- :func:`load_template` — one template, its ``extends`` chain merged and validated;
- :func:`render_offering` — an :class:`~moodle_sync.offerings.Offering` through a template into an
  :class:`~moodle_sync.provision.spec.OfferingSpec` (pure);
- :func:`check_templates` — every problem of every template, as a list.
"""

from ._check import check_templates, sample_offerings
from ._discovery import ENTRY_POINT_GROUP, find_templates, shipped_templates_dir, template_dirs
from ._load import load_template
from ._render import render_offering
from .model import Template, TemplateSource
from .problems import OfferingError, Problem, ProblemsError, TemplateError

__all__ = [
    "ENTRY_POINT_GROUP", "OfferingError", "Problem", "ProblemsError", "Template", "TemplateError",
    "TemplateSource", "check_templates", "find_templates", "load_template", "render_offering",
    "sample_offerings", "shipped_templates_dir", "template_dirs",
]
