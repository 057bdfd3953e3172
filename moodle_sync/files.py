"""Files and folders the tool writes: private to their owner, whatever the umask.

Reports, announcement lists, rejects files, logs and the store hold names, e-mail addresses and phone
numbers, so every file the tool writes is ``0600`` and every folder it creates is ``0700`` — also a file it
overwrites that existed with a looser mode (a file is replaced, never rewritten in place, and the new one
is created private). Folders that already existed (the current folder, a shared output folder) are left as
they are: they are the user's.

Public API: :func:`private_dir`, :func:`write_private`, :func:`write_private_text`, :func:`private_file`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "write_private", "write_private_text"]

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and its missing parents, each ``0700`` whatever the umask; folders that exist already
    are left alone. Returns the path. Raises ``OSError`` (``FileExistsError`` if a file is in the way)."""
    target = Path(path)
    missing: list[Path] = []
    for folder in (target, *target.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by someone else meanwhile: theirs
        os.chmod(folder, DIR_MODE)  # mkdir's mode is cut by the umask
    return target


def write_private(path: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Write a file through ``write(tmp_path)`` (what it returns is ignored) and put it at ``path``
    atomically, ``0600`` (its folder created ``0700`` if missing). A file already at ``path`` is replaced, whatever its mode was. Returns the
    path; raises ``OSError`` (the partial file is removed)."""
    target = Path(path)
    private_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, FILE_MODE)  # mkstemp's 0600 already; again in case ``write`` made the file anew
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_private_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` as :func:`write_private` does. Returns the path; raises ``OSError``."""
    return write_private(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def private_file(path: str | os.PathLike[str]) -> Path:
    """Make sure ``path`` exists and is ``0600`` (created empty if missing, its folder ``0700``; an existing
    file keeps its content but loses looser permissions): for files others then append to or open, such as
    a log or the SQLite store. Returns the path; raises ``OSError``."""
    target = Path(path)
    private_dir(target.parent)
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE))
    os.chmod(target, FILE_MODE)
    return target
