"""The default site: "Category 1", the admin (id 2), and five master courses in a "Master" category.

Every master course (shortname = idnumber) has an introduction section with a ``pretest`` quiz, topic
sections with a page and an assignment each, and a closing section with a ``posttest`` quiz; every
activity tracks completion and the course completes when all of them are complete.
"""

from __future__ import annotations

from datetime import tzinfo

from . import records as r
from .calls import SITE_TZ
from .content import add_module, create_course
from .state import State

MASTERS: list[tuple[str, str, list[str]]] = [
    ("MASTER-KODING", "Master: Koding untuk Guru",
     ["Berpikir Komputasional", "Pemrograman Visual dengan Blok", "Proyek Koding di Kelas"]),
    ("MASTER-AI", "Master: AI untuk Pendidikan",
     ["Mengenal Kecerdasan Artifisial", "AI Generatif untuk Perangkat Ajar", "Etika dan Keamanan AI",
      "Praktik AI di Kelas"]),
    ("MASTER-STEM", "Master: STEM Terpadu", ["Pendekatan STEM", "Merancang Proyek STEM"]),
    ("MASTER-PM", "Master: Pembelajaran Mendalam",
     ["Prinsip Pembelajaran Mendalam", "Merancang Pengalaman Belajar", "Asesmen Bermakna"]),
    ("MASTER-LAUT", "Master: Literasi Kelautan",
     ["Ekosistem Pesisir Lampung", "Kelautan dalam Kurikulum", "Aksi Konservasi bersama Murid"]),
]


def seed_state(now: int, tz: tzinfo = SITE_TZ) -> State:
    """A fresh site with the default content (course dates in the site's time zone ``tz``)."""
    state = State()
    state.insert("users", r.User(id=1, username="guest", firstname="Guest user", lastname=" ",
                                 email="root@localhost", timecreated=now))
    state.insert("users", r.User(id=2, username="admin", firstname="Admin", lastname="User",
                                 email="admin@example.org", timecreated=now, firstaccess=now, lastaccess=now))
    state.insert("categories", r.Category(id=1, name="Category 1", sortorder=10000, timemodified=now))
    master = state.insert("categories", r.Category(id=0, name="Master", idnumber="MASTER", sortorder=20000,
                                                   description="Kursus induk untuk diimpor ke setiap angkatan.",
                                                   timemodified=now))
    state.tables["courses"].next_id = 2  # id 1 is the site course
    for shortname, fullname, topics in MASTERS:
        add_master_course(state, master.id, shortname, fullname, topics, now, tz)
    return state


def add_master_course(state: State, category: int, shortname: str, fullname: str, topics: list[str],
                      now: int, tz: tzinfo = SITE_TZ) -> r.Course:
    """A master course: introduction with ``pretest``, one section per topic, closing with ``posttest``."""
    course = create_course(state, now, tz=tz, category=category, fullname=fullname, shortname=shortname,
                           idnumber=shortname, numsections=len(topics) + 2, enablecompletion=1,
                           summary=f"<p>Kursus induk {fullname.removeprefix('Master: ')}.</p>")
    sections = sorted(state.sections.find("course", course.id), key=lambda s: s.section)
    names = ["Pendahuluan", *topics, "Penutup dan Evaluasi"]
    for section, name in zip(sections[1:], names):
        state.update("sections", section, name=name, summary=f"<p>{name}</p>")
    intro, closing = sections[1], sections[-1]
    add_module(state, intro, modname="page", name="Panduan Program", idnumber="panduan", now=now)
    add_module(state, intro, modname="quiz", name="Pretest", idnumber="pretest", grademax=10.0, now=now)
    for number, (section, topic) in enumerate(zip(sections[2:-1], topics), start=1):
        add_module(state, section, modname="page", name=f"Materi: {topic}", idnumber=f"materi-{number}", now=now)
        add_module(state, section, modname="assign", name=f"Tugas: {topic}", idnumber=f"tugas-{number}",
                   grademax=100.0, rules=["completionsubmit"], now=now)
    add_module(state, closing, modname="quiz", name="Posttest", idnumber="posttest", grademax=10.0, now=now)
    add_module(state, closing, modname="page", name="Refleksi Pembelajaran", idnumber="refleksi", completion=1,
               now=now)
    tracked = [cm.id for cm in state.modules.find("course", course.id) if cm.completion]
    state.update("courses", course, criteria=tracked)
    return course
