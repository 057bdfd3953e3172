"""Problems found in a template or offering file, each naming file, line (or CSV row) and field."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from ..exceptions import InputError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a user's file. ``str()`` gives ``file:line: field: message``."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        if self.field:
            where = f"{where}: {self.field}" if where else self.field
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ProblemsError(InputError):
    """One or more :class:`Problem` s; the message lists them all, one a line.

    ``file``/``row``/``field`` are those of the first problem.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if not self.problems:
            raise ValueError("ProblemsError needs at least one problem")
        first = self.problems[0]
        if len(self.problems) == 1:
            super().__init__(first.message, file=first.file, row=first.line, field=first.field or None)
        else:
            super().__init__(f"{len(self.problems)} problems:\n" + "\n".join(f"  {p}" for p in self.problems))
            self.file, self.row, self.field = first.file, first.line, first.field or None

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "problems": [p.to_dict() for p in self.problems]}


class TemplateError(ProblemsError):
    """A course template cannot be loaded, validated or rendered."""


class OfferingError(ProblemsError):
    """An offering file (or its facilitators CSV) is invalid."""
