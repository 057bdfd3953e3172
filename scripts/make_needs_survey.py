#!/usr/bin/env python3
"""Generate the needs-survey example and the combined registration form (deterministic, seeded).

* ``examples/needs-survey.csv``: a needs survey (analisis kebutuhan pelatihan) of 4,511 teachers in the 15
  regencies and cities, 52% of them SD teachers with more than 10 years of service, plus 12 rows a survey
  export really has that cannot be used (a regency outside Lampung, no topic chosen, years of service
  written as text). Years of service come as numbers ("12") or bands ("> 10 tahun", "6 - 10 tahun");
  topics as a multi-select answer ("Koding; Kecerdasan Artifisial; STEM").
* ``examples/registrations-combined.csv``: one form for three programmes (Koding untuk Guru, Literasi
  Kelautan, AI untuk Pendidikan) with a first and a second choice, subject/role and years of service,
  and 3 bad rows; some applicants teach at coastal schools (``examples/sekolah-pesisir.csv``) and at
  the model schools of ``examples/offering-koding-model.yaml``.

Running it again gives the same bytes. Usage: python scripts/make_needs_survey.py [--seed N] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
from datetime import datetime, timedelta
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_SEED = 20260115
RESPONDENTS = 4511
SD_SENIOR_SHARE = 0.52

# slug -> (official-ish name written on the form, weight, coastal)
REGENCIES = {
    "bandar-lampung": ("Kota Bandar Lampung", 16, True), "lampung-tengah": ("Lampung Tengah", 14, False),
    "lampung-selatan": ("Lampung Selatan", 10, True), "lampung-timur": ("Lampung Timur", 10, True),
    "lampung-utara": ("Lampung Utara", 7, False), "tanggamus": ("Tanggamus", 6, True),
    "pringsewu": ("Pringsewu", 5, False), "pesawaran": ("Pesawaran", 5, True), "metro": ("Kota Metro", 4, False),
    "way-kanan": ("Way Kanan", 5, False), "lampung-barat": ("Lampung Barat", 4, False),
    "tulang-bawang": ("Tulang Bawang", 5, True), "tulang-bawang-barat": ("Tulang Bawang Barat", 4, False),
    "mesuji": ("Mesuji", 3, True), "pesisir-barat": ("Pesisir Barat", 2, True),
}
TOPICS = ["Koding", "Kecerdasan Artifisial", "STEM", "Literasi Kelautan", "Pembelajaran Mendalam",
          "Bimbingan Konseling", "Bahasa Inggris"]
SENIOR = ["> 10 tahun", "lebih dari 10 tahun", "12", "15 tahun", "> 10 tahun", "20"]
JUNIOR = ["< 5 tahun", "3", "5 - 10 tahun", "6 - 10 tahun", "8 tahun", "kurang dari 5 tahun"]
OTHER_LEVELS = ["SMP", "SMA", "SMK", "PAUD", "SLB"]


def _regency(rng: random.Random) -> str:
    slugs = list(REGENCIES)
    return rng.choices(slugs, weights=[REGENCIES[s][1] for s in slugs])[0]


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def needs_survey(seed: int = DEFAULT_SEED) -> bytes:
    """The survey's bytes: RESPONDENTS usable rows (exactly 52% SD with > 10 years) and 12 bad ones."""
    rng = random.Random(seed)
    senior_sd = round(RESPONDENTS * SD_SENIOR_SHARE)
    start = datetime(2026, 1, 12, 7, 0, 0)
    rows: list[list[str]] = []
    for i in range(RESPONDENTS):
        slug = _regency(rng)
        if i < senior_sd:
            level, years = rng.choice(["SD", "SD Negeri", "MI"]), rng.choice(SENIOR)
        else:
            level = rng.choice(["SD"] * 3 + OTHER_LEVELS * 2)
            years = rng.choice(JUNIOR if level in ("SD", "MI") else JUNIOR + SENIOR)
        wanted = rng.sample(TOPICS, rng.choice([1, 1, 2, 2, 3]))
        if REGENCIES[slug][2] and rng.random() < 0.35 and "Literasi Kelautan" not in wanted:
            wanted.append("Literasi Kelautan")
        trained = rng.choice(["Belum pernah", "Belum", "Sudah", "Tidak"])
        rows.append(["", REGENCIES[slug][0], level, years, "; ".join(wanted), trained])
    rng.shuffle(rows)
    bad = [["", "Kota Palembang", "SD", "12", "Koding", "Belum"], ["", "Jakarta Selatan", "SMP", "3", "STEM", "Belum"],
           ["", "", "SD", "> 10 tahun", "Koding", "Belum"]] * 2
    bad += [["", "Metro", "SD", "12", "", "Belum"], ["", "Mesuji", "SMP", "5", "", "Sudah"],
            ["", "Tanggamus", "SD", "lama sekali", "Koding", "Belum"], ["", "Pringsewu", "SMA", "-", "STEM", "Belum"],
            ["", "Way Kanan", "SD", "99", "Koding", "Belum"], ["", "Lampung Barat", "Universitas", "7", "STEM", "Belum"]]
    for k, row in enumerate(bad):
        rows.insert(300 * k + 17, row)
    for i, row in enumerate(rows):
        row[0] = (start + timedelta(seconds=97 * i + rng.randrange(60))).strftime("%d/%m/%Y %H:%M:%S")
    header = ["Timestamp", "Kabupaten/Kota", "Jenjang", "Masa Kerja", "Pelatihan yang Dibutuhkan",
              "Apakah Bapak/Ibu pernah mengikuti pelatihan serupa?"]
    return _csv(header, rows)


PROGRAMMES = ["Koding untuk Guru", "Literasi Kelautan", "AI untuk Pendidikan"]
SUBJECTS = ["Guru Kelas", "Matematika", "IPA", "Bahasa Inggris", "Guru BK", "Bahasa Indonesia", "Informatika",
            "Calon Kepala Sekolah"]
FIRST = ["Ahmad", "Siti", "Dewi", "Budi", "Rina", "Agus", "Nur", "Wayan", "Yuni", "Rizky", "Fitri", "Eko", "Lestari",
         "Hendra", "Maya", "Joko", "Ratna", "Dian", "Sri", "Teguh"]
LAST = ["Saputra", "Wulandari", "Pratama", "Lestari", "Hidayat", "Anggraini", "Susanto", "Rahmawati", "Setiawan",
        "Kurniawan", "Permata", "Nugroho", "Handayani", "Firmansyah"]
COASTAL_SCHOOLS = [("10801101", "SD Negeri 1 Kota Agung", "tanggamus"), ("10801102", "SMP Negeri 2 Kota Agung", "tanggamus"),
                   ("10801201", "SD Negeri 1 Krui", "pesisir-barat"), ("10801202", "SMP Negeri 1 Pesisir Tengah", "pesisir-barat"),
                   ("10801301", "SD Negeri 3 Padang Cermin", "pesawaran"), ("10801401", "SD Negeri 1 Kalianda", "lampung-selatan"),
                   ("10801402", "SMK Negeri 1 Kalianda", "lampung-selatan"), ("10801501", "SD Negeri 2 Labuhan Maringgai", "lampung-timur")]
MODEL_SCHOOLS = [("10807001", "SD Negeri 1 Metro Pusat", "metro"), ("10807002", "SMP Negeri 1 Pringsewu", "pringsewu")]
INLAND = [(f"1080{2000 + i:04d}", f"SD Negeri {i + 1} {town}", slug) for i, (town, slug) in enumerate(
    [("Gunung Sugih", "lampung-tengah"), ("Kotabumi", "lampung-utara"), ("Metro Barat", "metro"),
     ("Gadingrejo", "pringsewu"), ("Tanjung Karang", "bandar-lampung"), ("Liwa", "lampung-barat"),
     ("Pringsewu", "pringsewu"), ("Metro Timur", "metro")])]


def combined_form(seed: int = DEFAULT_SEED) -> bytes:
    """240 registrations for three programmes (first and second choice) and 3 bad rows."""
    rng = random.Random(seed + 1)
    start = datetime(2026, 6, 1, 8, 0, 0)
    schools = COASTAL_SCHOOLS * 2 + MODEL_SCHOOLS * 3 + INLAND * 2
    rows: list[list[str]] = []
    for i in range(240):
        npsn, school, slug = rng.choice(schools)
        first = rng.choice(PROGRAMMES)
        if npsn in {s[0] for s in COASTAL_SCHOOLS} and rng.random() < 0.5:
            first = "Literasi Kelautan"
        if npsn in {s[0] for s in MODEL_SCHOOLS} and rng.random() < 0.6:
            first = "Koding untuk Guru"
        second = rng.choice([""] + [p for p in PROGRAMMES if p != first])
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        level = {"SD": "SD", "SMP": "SMP", "SMK": "SMK"}[school.split()[0]]
        rows.append([(start + timedelta(minutes=7 * i + rng.randrange(5))).strftime("%d/%m/%Y %H:%M:%S"),
                     f"{name.lower().replace(' ', '.')}{i}@guru.belajar.id", name, school, npsn,
                     REGENCIES[slug][0], level, rng.choice(SUBJECTS), rng.choice(SENIOR + JUNIOR),
                     # an answer written a little differently from the offering's (case, spacing, punctuation)
                     first if rng.random() < 0.8 else first.upper() + " ", second,
                     rng.choice(["Belum pernah", "Belum pernah", "Belum", "Sudah pernah"])])
    rows.insert(50, [rows[49][0], "bukan-email", "Tanpa Email", "SD Negeri 1 Krui", "10801201", "Pesisir Barat",
                     "SD", "Guru Kelas", "3", "Literasi Kelautan", "", "Belum"])
    rows.insert(120, [rows[119][0], "guru.palembang@guru.belajar.id", "Guru Palembang", "SD Negeri 9 Palembang",
                      "10609999", "Kota Palembang", "SD", "IPA", "12", "Koding untuk Guru", "", "Belum"])
    rows.insert(200, ["", "tanpa.waktu@guru.belajar.id", "Tanpa Waktu", "SD Negeri 1 Metro Pusat", "10807001",
                      "Kota Metro", "SD", "IPA", "12", "Koding untuk Guru", "", "Belum"])
    header = ["Timestamp", "Alamat email", "Nama Lengkap", "Asal Sekolah", "NPSN Sekolah", "Kabupaten/Kota",
              "Jenjang", "Mata Pelajaran yang Diampu", "Masa Kerja", "Pilihan Pelatihan", "Pilihan Kedua",
              "Apakah Bapak/Ibu pernah mengikuti pelatihan ini sebelumnya?"]
    return _csv(header, rows)


def coastal_schools() -> bytes:
    """The coastal schools' list (npsn, nama sekolah, kabupaten) the ocean-literacy offering targets."""
    return _csv(["npsn", "nama_sekolah", "kabupaten"], [list(s) for s in COASTAL_SCHOOLS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=EXAMPLES, help="folder (default: examples/)")
    args = parser.parse_args()
    for name, data in (("needs-survey.csv", needs_survey(args.seed)),
                       ("registrations-combined.csv", combined_form(args.seed)),
                       ("sekolah-pesisir.csv", coastal_schools())):
        (args.out / name).write_bytes(data)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
