"""Registrations to participants: import form exports, normalise and validate, de-duplicate, select fairly,
split into classes, and write announcement lists.

Everything here is pure except :func:`import_registrations` (reads files), :func:`write_rejects` and the
``write_announcement_*`` functions (write files).

Typical use::

    result = import_registrations("registrations.csv", mapping="columns.yaml")
    selection = select_participants(result.accepted, seats=120, min_per_regency=2,
                                    previously_trained={"a@b.id": "completed koding-2025-a1"})
    classes = assign_classes(selection.selected, class_size=30)
    print(explain(selection, "a@b.id"))
"""

from .announce import announcement_sheets, mask_email, write_announcement_csv, write_announcement_xlsx
from .classes import ClassGroup, assign_classes, class_code
from .columns import ColumnMap, detect_columns, load_mapping, resolve_columns
from .explain import explain
from .importer import default_rejects_path, import_registrations, import_table, write_rejects
from .model import FIELDS, REQUIRED_FIELDS, SCHOOL_LEVELS, Applicant, ImportResult, Rejected, Superseded
from .names import PersonName, normalise_name, parse_name, split_name
from .reader import Table, read_table
from .selection import (
                        NOT_SELECTED,
                        SELECTED,
                        WAITLISTED,
                        WITHDRAWN,
                        Placement,
                        Promotion,
                        Selection,
                        TierAllocation,
                        next_in_line,
                        promote_from_waitlist,
                        select_participants,
)

__all__ = [
                        "FIELDS",
                        "NOT_SELECTED",
                        "REQUIRED_FIELDS",
                        "SCHOOL_LEVELS",
                        "SELECTED",
                        "WAITLISTED",
                        "WITHDRAWN",
                        "Applicant",
                        "ClassGroup",
                        "ColumnMap",
                        "ImportResult",
                        "PersonName",
                        "Placement",
                        "Promotion",
                        "Rejected",
                        "Selection",
                        "Superseded",
                        "Table",
                        "TierAllocation",
                        "announcement_sheets",
                        "assign_classes",
                        "class_code",
                        "default_rejects_path",
                        "detect_columns",
                        "explain",
                        "import_registrations",
                        "import_table",
                        "load_mapping",
                        "mask_email",
                        "next_in_line",
                        "normalise_name",
                        "parse_name",
                        "promote_from_waitlist",
                        "read_table",
                        "resolve_columns",
                        "select_participants",
                        "split_name",
                        "write_announcement_csv",
                        "write_announcement_xlsx",
                        "write_rejects",
]
