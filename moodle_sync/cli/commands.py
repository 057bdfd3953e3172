"""Collects the commands: every module of this package that defines ``COMMANDS`` (a list of click
commands) contributes them, so a new command group is one new module."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import click


def _collect() -> list[click.Command]:
    found: list[click.Command] = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if info.name in ("app", "commands", "common"):
            continue
        module = importlib.import_module(f"{__package__}.{info.name}")
        found.extend(getattr(module, "COMMANDS", []))
    return found


ALL = _collect()
