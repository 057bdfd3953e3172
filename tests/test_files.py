"""Every file the tool writes is 0600 and every folder it creates 0700, whatever the umask (022 here, the
usual one), also when a file existed before with a looser mode."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from moodle_sync.files import private_dir, private_file, write_private_text
from moodle_sync.tabular import Sheet, write_csv, write_xlsx


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def loose(path: Path, text: str = "old") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o644)
    return path


def test_folders_made_are_0700_each_and_existing_ones_are_left_alone(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    target = private_dir(tmp_path / "a" / "b" / "c")
    assert [mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", target)] == [0o700] * 3
    assert mode(tmp_path) == 0o755


def test_a_written_file_is_0600_also_over_a_looser_one(tmp_path: Path) -> None:
    fresh = write_private_text(tmp_path / "new" / "report.html", "<p>Budi</p>")
    old = write_private_text(loose(tmp_path / "report.json"), "{}")
    assert (mode(fresh), mode(fresh.parent), mode(old), old.read_text()) == (0o600, 0o700, 0o600, "{}")


def test_a_file_appended_to_keeps_its_content_and_becomes_0600(tmp_path: Path) -> None:
    log = private_file(loose(tmp_path / "pull.log", "line 1\n"))
    new = private_file(tmp_path / "data" / "pull.log")
    assert (mode(log), log.read_text(), mode(new), mode(new.parent)) == (0o600, "line 1\n", 0o600, 0o700)


def test_csv_and_xlsx_are_0600(tmp_path: Path) -> None:
    csv_path = write_csv(loose(tmp_path / "list.csv"), ["Nama", "HP"], [["Budi", "+62812"]])
    xlsx_path = write_xlsx(tmp_path / "out" / "list.xlsx", [Sheet("A", ["Nama"], [["Budi"]])])
    assert (mode(csv_path), mode(xlsx_path), mode(xlsx_path.parent)) == (0o600, 0o600, 0o700)


def test_the_sqlite_store_and_its_folder_are_private(tmp_path: Path) -> None:
    from moodle_sync.store import Store

    path = tmp_path / "data" / "moodle-sync" / "store.sqlite"
    Store.open(f"sqlite:///{path}").close()
    assert (mode(path), mode(path.parent), mode(path.parent.parent)) == (0o600, 0o700, 0o700)
    path.chmod(0o644)
    Store.open(f"sqlite:///{path}").close()
    assert mode(path) == 0o600


def test_the_pull_log_is_private(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.cli.conftest import run

    log = loose(tmp_path / "pull.log", "")
    code, _, err = run(capsys, "--store", str(tmp_path / "s" / "store.sqlite"), "pull", "--log", str(log))
    assert code == 0, err
    assert mode(log) == 0o600 and mode(tmp_path / "s") == 0o700
