"""A lock file so that two pulls (cron firing while one still runs) never overlap."""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..exceptions import MoodleSyncError


class PullBusyError(MoodleSyncError):
    """Another pull holds the lock. Exit code 75 (EX_TEMPFAIL): try again later."""

    exit_code = 75


@contextmanager
def pull_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on ``path`` (created with its folder) for the block.

    Raises :class:`PullBusyError` at once if another process holds it. The lock dies with the process,
    so a killed pull never leaves a stale lock behind.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PullBusyError(f"another pull is running (lock {path}); try again later") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)
