"""The pull lock: exclusive, non-blocking, released on exit and with the process, exit code 75."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from moodle_sync.evidence.lock import PullBusyError, pull_lock


def test_a_second_holder_is_refused_at_once(tmp_path: Path) -> None:
    lock = tmp_path / "deeper" / "pull.lock"
    with pull_lock(lock):
        assert lock.read_text() == str(os.getpid())
        with pytest.raises(PullBusyError, match="another pull is running") as refused:
            with pull_lock(lock):
                pytest.fail("two pulls held the lock")
        assert refused.value.exit_code == 75 and str(lock) in str(refused.value)


def test_released_after_the_block_even_on_error(tmp_path: Path) -> None:
    lock = tmp_path / "pull.lock"
    with pytest.raises(RuntimeError):
        with pull_lock(lock):
            raise RuntimeError("the pull failed")
    with pull_lock(lock):
        pass
    with pull_lock(lock):   # and again: nothing left behind
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    lock = tmp_path / "pull.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom pathlib import Path\n"
         "from moodle_sync.evidence.lock import pull_lock\n"
         "with pull_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(60)\n", str(lock)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(PullBusyError):
            with pull_lock(lock):
                pass
    finally:
        holder.kill()
        holder.wait(timeout=30)
    with pull_lock(lock):   # the kernel dropped the lock with the process
        assert lock.exists()
