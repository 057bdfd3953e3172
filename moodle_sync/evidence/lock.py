"""The pull lock now lives with the store (:mod:`moodle_sync.store.locks`): one per store, across hosts."""

from __future__ import annotations

from ..store.locks import BusyError, PullBusyError, pull_lock

__all__ = ["BusyError", "PullBusyError", "pull_lock"]
