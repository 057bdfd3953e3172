"""Building applicants for selection and class tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from moodle_sync.participants import Applicant

BASE = datetime(2026, 11, 2, 8, 0, 0)


def applicant(email: str, regency: str = "metro", *, minute: int = 0, trained: bool | None = None,
              nuptk: str | None = None, school: str | None = None, npsn: str | None = None, row: int = 2,
              name: str | None = None, file: str = "form.csv") -> Applicant:
    """An applicant who registered ``minute`` minutes after the form opened."""
    fullname = name or email.split("@")[0].replace(".", " ").title()
    first, _, last = fullname.rpartition(" ")
    return Applicant(file=file, row=row, email=email, fullname=fullname, firstname=first or fullname,
                     lastname=last if first else "-", regency=regency,
                     submitted_at=BASE + timedelta(minutes=minute), nuptk=nuptk, npsn=npsn, school=school,
                     school_level="SD", trained_before=trained)


def crowd(counts: dict[str, int], *, trained_every: int = 0, start: int = 0) -> list[Applicant]:
    """``counts[regency]`` applicants per regency, registering one minute apart (interleaved by regency);
    every ``trained_every``-th one says they were trained before."""
    out: list[Applicant] = []
    minute = start
    remaining = dict(counts)
    while any(remaining.values()):
        for regency in sorted(remaining):
            if remaining[regency]:
                remaining[regency] -= 1
                n = len(out) + 1
                trained = bool(trained_every) and n % trained_every == 0
                out.append(applicant(f"guru{n}@example.id", regency, minute=minute, row=n + 1,
                                     trained=trained))
                minute += 1
    return out
