#!/usr/bin/env python3
"""Generate examples/registrations.csv: a realistic, messy Google-Forms-style registration export.

Deterministic (seeded): running it again gives the same bytes. About 400 rows in Indonesian, written the
way an Indonesian spreadsheet exports them: UTF-8 with a byte-order mark, ``;`` as delimiter, ``\\r\\n``
line ends, quoted "Alamat Sekolah" cells holding line breaks and semicolons. The problems it contains:
duplicate submissions by e-mail (some three times) and by NUPTK with later timestamps, bad e-mail
addresses, regencies written many ways (official names, Kab./Kota prefixes, odd casing and spacing,
Lamsel/Lamteng/Tuba/Tubaba/Pesibar/Balam/B. Lampung...), places outside Lampung, formula-like values
(``=HYPERLINK(...)``, ``+62812...`` phones, a ``=cmd|...`` name), missing, placeholder ("-") and 15-digit
NUPTK, mixed yes/no answers, a few ISO timestamps, and an uneven spread (Bandar Lampung and Lampung Tengah
heavy, Pesisir Barat and Mesuji few).

:func:`generate` also returns what each row should become (``accepted``, ``superseded`` or
``rejected:<field>``), which the tests compare with the importer's verdict.

Usage: python scripts/make_registrations.py [--seed N] [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

HEADER = [
    "Timestamp", "Alamat email", "Nama Lengkap (beserta gelar)", "NUPTK", "Asal Sekolah", "NPSN Sekolah",
    "Alamat Sekolah", "Kabupaten/Kota", "Jenjang", "Nomor HP/WhatsApp", "Mata Pelajaran yang Diampu",
    "Apakah Bapak/Ibu pernah mengikuti pelatihan Koding dan Kecerdasan Artifisial sebelumnya?",
]
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "examples" / "registrations.csv"
DEFAULT_SEED = 20261102

# slug: (weight, ways of writing it, towns)
REGENCIES: dict[str, tuple[float, list[str], list[str]]] = {
    "bandar-lampung": (22, ["Kota Bandar Lampung", "Bandar Lampung", "BANDAR LAMPUNG", "Balam", "B. Lampung",
                            "Kota Bandar lampung", "bandar  lampung", "Bandarlampung"],
                       ["Tanjung Karang", "Teluk Betung", "Kedaton", "Rajabasa", "Sukarame", "Way Halim"]),
    "lampung-tengah": (16, ["Kabupaten Lampung Tengah", "Lampung Tengah", "Lamteng", "Kab. Lampung Tengah",
                            "LAMPUNG TENGAH", "lampung tengah", "Kab Lamteng"],
                       ["Gunung Sugih", "Terbanggi Besar", "Bandar Jaya", "Kota Gajah", "Seputih Raman"]),
    "lampung-selatan": (10, ["Kabupaten Lampung Selatan", "Lampung Selatan", "Lamsel", "Kab. Lamsel",
                             "lampung selatan"], ["Kalianda", "Natar", "Jati Agung", "Sidomulyo"]),
    "lampung-timur": (10, ["Kabupaten Lampung Timur", "Lampung Timur", "Lamtim", "Kab. Lampung Timur"],
                      ["Sukadana", "Way Jepara", "Pekalongan", "Batanghari"]),
    "lampung-utara": (6, ["Kabupaten Lampung Utara", "Lampung Utara", "Lampura", "Kotabumi"],
                      ["Kotabumi", "Abung Selatan", "Bukit Kemuning"]),
    "tanggamus": (6, ["Kabupaten Tanggamus", "Tanggamus", "Kab. Tanggamus", "TANGGAMUS"],
                  ["Kota Agung", "Talang Padang", "Gisting"]),
    "pringsewu": (5, ["Kabupaten Pringsewu", "Pringsewu", "Kab. Pringsewu"], ["Pringsewu", "Gadingrejo"]),
    "pesawaran": (5, ["Kabupaten Pesawaran", "Pesawaran", "Kab Pesawaran"],
                  ["Gedong Tataan", "Padang Cermin"]),
    "metro": (5, ["Kota Metro", "Metro", "METRO", "Kota metro"],
              ["Metro Pusat", "Metro Barat", "Metro Timur"]),
    "way-kanan": (4, ["Kabupaten Way Kanan", "Way Kanan", "Waykanan"], ["Blambangan Umpu", "Baradatu"]),
    "lampung-barat": (3, ["Kabupaten Lampung Barat", "Lampung Barat", "Lambar"], ["Liwa", "Sumber Jaya"]),
    "tulang-bawang": (3, ["Kabupaten Tulang Bawang", "Tulang Bawang", "Tuba", "Kab. Tulang Bawang"],
                      ["Menggala", "Banjar Agung"]),
    "tulang-bawang-barat": (2.5, ["Kabupaten Tulang Bawang Barat", "Tulang Bawang Barat", "Tubaba"],
                            ["Panaragan", "Tulang Bawang Tengah"]),
    "mesuji": (1, ["Kabupaten Mesuji", "Mesuji", "Kab. Mesuji"], ["Wiralaga", "Simpang Pematang"]),
    "pesisir-barat": (1, ["Kabupaten Pesisir Barat", "Pesisir Barat", "Pesibar"], ["Krui", "Pesisir Tengah"]),
}
OUTSIDE = ["Kota Palembang", "Kab. Ogan Komering Ilir", "Jakarta Timur", "Kota Bengkulu", "Kab. Banyuasin",
           "Lampung"]

GIVEN = ["Siti", "Nur", "Sri", "Dwi", "Tri", "Eko", "Agus", "Budi", "Dedi", "Yuli", "Rina", "Wahyu", "Ahmad",
         "Muhammad", "Rizky", "Fitri", "Dewi", "Ayu", "Indah", "Rahmat", "Hendra", "Yusuf", "Fajar", "Anisa",
         "Ratna", "Lina", "Dian", "Novi", "Ika", "Heri", "Joko", "Bambang", "Slamet", "Puji", "Endang",
         "Nurul", "Ani", "Yeni", "Desi", "Rudi", "Ade", "Iwan", "Tuti", "Lilis", "Eka", "Ria", "Nia"]
FAMILY = ["Lestari", "Rahmawati", "Setiawan", "Saputra", "Susanti", "Handayani", "Kurniawan", "Pratama",
          "Hidayat", "Nurhayati", "Yulianti", "Wulandari", "Syahputra", "Siregar", "Nasution", "Hasibuan",
          "Puspita", "Wibowo", "Santoso", "Purnomo", "Marlina", "Fitriani", "Maulana", "Anggraini", "Susilo",
          "Febriyanti", "Kusuma", "Ramadhan", "Safitri", "Harahap", "Gunawan", "Nur’aini", "Ma’ruf"]
MONONYMS = ["Sukarmi", "Paijo", "Suparman", "Sumarni", "Tukiyem", "Warsito"]
BALINESE = ["I Made", "Ni Made", "I Ketut", "Ni Putu", "I Nyoman", "Ni Wayan"]
LEVELS = {  # level: (weight, form answers, school name patterns)
    "SD": (40, ["SD/MI", "SD/MI", "SD/MI", "SD", "sd", "MI", "Sekolah Dasar"],
           ["SD Negeri {n} {town}", "SDN {n} {town}", "MI Nurul Huda {town}", "SD IT Al-Azhar {town}"]),
    "SMP": (25, ["SMP/MTs", "SMP/MTs", "SMP", "Smp", "MTs"],
            ["SMP Negeri {n} {town}", "SMPN {n} {town}", "MTs Negeri {n} {town}",
             "SMP Muhammadiyah {n} {town}"]),
    "SMA": (15, ["SMA/MA", "SMA/MA", "SMA", "MA"],
            ["SMA Negeri {n} {town}", "SMAN {n} {town}", "MA Al-Hikmah {town}"]),
    "SMK": (12, ["SMK/MAK", "SMK", "smk"], ["SMK Negeri {n} {town}", "SMK PGRI {n} {town}"]),
    "SLB": (3, ["SLB"], ["SLB Negeri {town}", "SLB Dharma Bhakti {town}"]),
    "PAUD": (5, ["TK/PAUD", "TK", "PAUD"], ["TK Pertiwi {n} {town}", "PAUD Melati {town}"]),
}
SUBJECTS = ["Guru Kelas", "Matematika", "IPA", "Informatika", "Bahasa Indonesia", "Bahasa Inggris", "PJOK",
            "Prakarya", "IPS", "Pendidikan Agama Islam"]
YES = ["Ya", "Sudah pernah", "Pernah", "Sudah"]
NO = ["Belum", "Tidak", "Belum pernah", "belum", "Tidak pernah"]
START = datetime(2026, 11, 2, 7, 0, 0)
END = datetime(2026, 11, 27, 23, 0, 0)


@dataclass
class Row:
    when: datetime
    email: str
    name: str
    nuptk: str
    school: str
    npsn: str
    address: str
    regency: str
    level: str
    phone: str
    subject: str
    trained: str
    expect: str = "accepted"
    iso_time: bool = False

    def cells(self) -> list[str]:
        stamp = self.when.strftime("%Y-%m-%d %H:%M:%S" if self.iso_time else "%d/%m/%Y %H:%M:%S")
        return [stamp, self.email, self.name, self.nuptk, self.school, self.npsn, self.address, self.regency,
                self.level, self.phone, self.subject, self.trained]


class _Maker:
    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.emails: set[str] = set()
        self.nuptks: set[str] = set()
        self.schools: dict[tuple[str, str], str] = {}

    def when(self) -> datetime:
        span = int((END - START).total_seconds())
        # registrations bunch at the start (announcement) and just before the deadline
        x = self.rnd.betavariate(0.7, 0.9)
        return START + timedelta(seconds=int(x * span))

    def name(self) -> tuple[str, str, str]:
        r = self.rnd
        roll = r.random()
        if roll < 0.05:
            words = [r.choice(MONONYMS)]
        elif roll < 0.10:
            words = [r.choice(BALINESE), r.choice(FAMILY[:20])]
        else:
            words = [r.choice(GIVEN)] + ([r.choice(GIVEN)] if r.random() < 0.3 else []) + [r.choice(FAMILY)]
        plain = " ".join(words)
        prefix = r.choice(["Dra. ", "Drs. ", "Hj. ", "H. "]) if r.random() < 0.08 else ""
        suffix = r.choice([", S.Pd.", ", S.Pd", ", S.Pd.I", " S.Pd", ", S.Pd., M.Pd.", ", S.Pd.SD",
                           ", S.Pd., Gr.", ", S.Si", ", A.Ma.Pd", ", S.Kom."]) if r.random() < 0.75 else ""
        full = prefix + plain + suffix
        style = r.random()
        if style < 0.10:
            full = full.upper()
        elif style < 0.17:
            full = full.lower()
        elif style < 0.22:
            full = "  " + full.replace(" ", "  ", 1) + " "
        return full, words[0], words[-1]

    def email(self, first: str, last: str, level: str) -> str:
        r = self.rnd
        base = f"{first}.{last}".lower().replace(" ", "").replace("’", "")
        while True:
            official = (f"guru.{level.lower()}.belajar.id" if level in ("SD", "SMP", "SMA", "SMK")
                        else "gmail.com")
            domain = r.choice(["gmail.com", "gmail.com", "gmail.com", "yahoo.co.id", official])
            email = f"{base}{r.randint(1, 999) if r.random() < 0.6 else ''}@{domain}"
            if email not in self.emails:
                self.emails.add(email)
                return email

    def nuptk(self) -> str:
        r = self.rnd
        while True:
            value = f"{r.randint(1, 9)}{r.randint(0, 10**15 - 1):015d}"
            if value not in self.nuptks:
                self.nuptks.add(value)
                return value

    def phone(self) -> str:
        r = self.rnd
        prefix = r.choice(["12", "13", "21", "22", "52", "53", "57", "77", "95"])
        n = f"8{prefix}{r.randint(10**6, 10**8 - 1)}"
        return r.choice([f"0{n}", f"0{n}", f"+62{n}", f"+62 {n[:3]} {n[3:7]} {n[7:]}", f"62{n}",
                         f"0{n[:3]}-{n[3:7]}-{n[7:]}", n, f"0{n} / 0857{r.randint(10**6, 10**7 - 1)}",
                         f"(0721) {r.randint(700000, 799999)}", "-"])

    def person(self, slug: str | None = None) -> Row:
        r = self.rnd
        slug = slug or r.choices(list(REGENCIES), weights=[w for w, _, _ in REGENCIES.values()])[0]
        _, ways, towns = REGENCIES[slug]
        level = r.choices(list(LEVELS), weights=[w for w, _, _ in LEVELS.values()])[0]
        _, answers, patterns = LEVELS[level]
        town = r.choice(towns)
        school = r.choice(patterns).format(n=r.randint(1, 12), town=town)
        npsn = self.schools.setdefault((slug, school), f"108{r.randint(0, 99999):05d}")
        full, first, last = self.name()
        roll = r.random()
        if roll < 0.72:
            nuptk = self.nuptk()
        else:
            nuptk = "" if roll < 0.9 else r.choice(["-", "tidak ada", "belum punya"])
        street = r.choice(["Jl. Pendidikan", "Jl. Raya", "Jl. Merdeka", "Jl. Soekarno-Hatta", "Jl. Pramuka"])
        address = f"{street} No. {r.randint(1, 200)}"
        if r.random() < 0.35:
            address += f"\r\nKec. {town}; {r.choice(ways)}"
        trained = r.choice(NO) if r.random() < 0.72 else r.choice(YES)
        if r.random() < 0.03:
            trained = ""
        return Row(self.when(), self.email(first, last, level), full, nuptk, school,
                   npsn if r.random() < 0.93 else "", address, r.choice(ways), r.choice(answers),
                   self.phone(), r.choice(SUBJECTS), trained, iso_time=r.random() < 0.02)


def _bad_rows(m: _Maker) -> list[Row]:
    """Rows that must be rejected, each with the field that fails."""
    r = m.rnd
    out: list[Row] = []
    for bad in ["budi.santoso@gmail", "dewi lestari@gmail.com", "rina.marlinagmail.com", "agus@@yahoo.co.id",
                "sri.wahyuni@gmail.con", "", "ahmad.fauzi@gmial.com", "nurul huda",
                "=HYPERLINK(\"http://x.id\")"]:
        row = m.person()
        out.append(replace(row, email=bad, expect="rejected:email"))
    for place in OUTSIDE + ["Kota Palembang", "Jakarta Timur"]:
        out.append(replace(m.person(), regency=place, expect="rejected:regency"))
    for _ in range(4):
        out.append(replace(m.person(), nuptk=m.nuptk()[:15], expect="rejected:nuptk"))
    out.append(replace(m.person(), name="=cmd|' /C calc'!A0", expect="rejected:fullname"))
    out.append(replace(m.person(), name="", expect="rejected:fullname"))
    out.append(replace(m.person(), name="Guru 123", expect="rejected:fullname"))
    out.append(replace(m.person(), npsn="108012", expect="rejected:npsn"))
    out.append(replace(m.person(), level="Perguruan Tinggi", expect="rejected:school_level"))
    out.append(replace(m.person(), level="SMA/SMK", expect="rejected:school_level"))
    out.append(replace(m.person(), regency="", expect="rejected:regency"))
    out.append(replace(m.person(), nuptk="3.21E+15", expect="rejected:nuptk"))
    for row in out:
        if r.random() < 0.5:
            row.when = START + (row.when - START) / 2
    return out


def generate(seed: int = DEFAULT_SEED, people: int = 345) -> list[Row]:
    """All rows in timestamp order (as Google Forms exports them), each with its expected outcome."""
    m = _Maker(seed)
    r = m.rnd
    rows = [m.person() for _ in range(people)]
    # Guarantee the thin regencies exist but stay thin.
    rows += [m.person("pesisir-barat"), m.person("mesuji")]
    # Formula-like text that is fine to keep (stored as text, neutralised when we write it).
    rows[3].school = '=HYPERLINK("https://bit.ly/daftar-guru","SMP Negeri 1 Natar")'
    rows[4].phone = "+6281277788899"
    rows[5].school = "@SMAN 2 Metro"
    rows[6].phone = "12345"   # unusable: dropped with a warning, the row is still accepted
    singles = list(range(len(rows)))
    r.shuffle(singles)
    extra: list[Row] = []
    # Resubmissions with the same e-mail (a correction), some twice.
    for i in singles[:25]:
        original = rows[i]
        original.expect = "superseded"
        times = 2 if i in singles[:5] else 1
        previous = original
        for t in range(times):
            later = replace(previous, when=previous.when + timedelta(hours=r.randint(1, 200)), iso_time=False,
                            phone=m.phone(), trained=r.choice(NO + YES), expect="accepted")
            if r.random() < 0.3:
                later.regency = r.choice(REGENCIES[r.choice(list(REGENCIES))][1])
            if r.random() < 0.3:
                later.email = "  " + later.email.upper() + " "
            if t < times - 1:
                later.expect = "superseded"
            extra.append(later)
            previous = later
    # Resubmissions under another e-mail address but the same NUPTK.
    with_nuptk = [i for i in singles[25:] if rows[i].nuptk.isdigit()][:10]
    for i in with_nuptk:
        original = rows[i]
        original.expect = "superseded"
        first, last = original.name.split()[0], "baru"
        when = original.when + timedelta(days=r.randint(1, 5))
        email = m.email(first.strip(".,").lower() or "guru", last, "SD")
        extra.append(replace(original, when=when, iso_time=False, email=email, expect="accepted"))
    everything = rows + extra + _bad_rows(m)
    everything.sort(key=lambda row: row.when)
    return everything


def render(rows: list[Row]) -> bytes:
    """The CSV bytes: UTF-8 with BOM, ``;``, ``\\r\\n``."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(row.cells())
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    rows = generate(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(render(rows))
    counts: dict[str, int] = {}
    for row in rows:
        key = row.expect.split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    print(f"wrote {args.out}: {len(rows)} rows, expected {counts}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
