"""The course total as Moodle 4.5 computes and shows it, and Moodle's number formatting for grades.

A new course's grade category uses natural aggregation (``GRADE_AGGREGATE_SUM``) with "Exclude empty
grades" on (``$CFG->grade_aggregateonlygraded`` = 1, the default). ``grade_category::aggregate_grades``
then leaves items without a grade out of both the sum and the maximum, so the user's course total is the
sum of their grades (bounded by the maximum) and its range is ``0``..(sum of the maxima of the graded
items), kept per user in ``grade_grades.rawgrademax``. The user report shows that per-user range for a
total with a grade (``get_grade_max``) and the course item's own range (every item's maximum) otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .state import State

GRADE_DECIMALS = 5  # grade_grades.finalgrade is NUMBER(10,5)


@dataclass(frozen=True)
class CourseTotal:
    """A user's course total: ``grade`` (``None`` when nothing is graded) within ``grademin``..``grademax``."""

    grade: float | None
    grademin: float
    grademax: float


def course_total(state: State, courseid: int, userid: int) -> CourseTotal:
    """The user's course total by natural aggregation over the graded items only (Moodle's default).

    Items with no grade (no row, or a row without a final grade) count neither in the sum nor in the
    maximum; with none graded the total is ``None`` and the range is the course item's own.
    """
    items = state.grade_items.find("course", courseid)
    course_item = next((i for i in items if i.itemtype == "course"), None)
    total, grademax = 0.0, 0.0
    graded = False
    for item in items:
        if item.itemtype == "course":
            continue
        grade = state.grades.first("item_user", (item.id, userid))
        if grade is None or grade.finalgrade is None:
            continue
        graded = True
        total += grade.finalgrade
        grademax += item.grademax
    if not graded:
        return CourseTotal(None, 0.0, course_item.grademax if course_item else 0.0)
    bounded = min(max(total, 0.0), grademax)
    return CourseTotal(round(bounded, GRADE_DECIMALS), 0.0, grademax)


def format_float(value: float, decimals: int) -> str:
    """PHP's ``format_float``/``number_format``: rounded half away from zero, no thousands separator."""
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def format_range(grademin: float, grademax: float, decimals: int = 0) -> str:
    """``grade_item::get_formatted_range`` as the user report calls it (range decimals 0 by default)."""
    return f"{format_float(grademin, decimals)}&ndash;{format_float(grademax, decimals)}"


def format_percentage(value: float | None, grademin: float, grademax: float, decimals: int = 2) -> str:
    """``grade_format_gradevalue`` as a percentage: "-" without a grade, "" for an empty range, "66.50 %"."""
    if value is None:
        return "-"
    if grademin == grademax:
        return ""
    bounded = min(max(value, grademin), grademax)
    return f"{format_float(100 * (bounded - grademin) / (grademax - grademin), decimals)} %"


def format_grade(value: float | None, decimals: int = 2) -> str:
    """``grade_format_gradevalue`` as a real number: "-" without a grade, else "7.50"."""
    return "-" if value is None else format_float(value, decimals)
