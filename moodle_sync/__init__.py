"""moodle_sync: provision Moodle courses, enrol selected participants, pull completion evidence.

The public API: :func:`connect` gives a typed :class:`Moodle` for a site (its web services, nothing
else); :func:`load_settings` reads the settings the command uses (flags aside); the workflows of the
``moodle-sync`` command are functions (:mod:`moodle_sync.api`: render, plan and apply an offering,
import and select participants, enrol, pull, report); every error is a :class:`MoodleSyncError`
(:mod:`moodle_sync.exceptions`). ``moodle_sync.sandbox.SandboxServer`` is a fake Moodle for tests.
"""

from ._version import __version__
from .api import (
    apply_offering,
    enrol_selected,
    import_registrations,
    offering_report,
    open_store,
    plan_offering,
    pull_evidence,
    render_offering,
    select_participants,
    stored_offering_file,
)
from .config import Settings, load_settings
from .exceptions import ConfigError, InputError, MoodleSyncError, TransportError, WebServiceError
from .ws import connect
from .ws.moodle import Moodle

__all__ = [
    "ConfigError",
    "InputError",
    "Moodle",
    "MoodleSyncError",
    "Settings",
    "TransportError",
    "WebServiceError",
    "__version__",
    "apply_offering",
    "connect",
    "enrol_selected",
    "import_registrations",
    "load_settings",
    "offering_report",
    "open_store",
    "plan_offering",
    "pull_evidence",
    "render_offering",
    "select_participants",
    "stored_offering_file",
]
