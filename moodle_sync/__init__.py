"""moodle_sync: provision Moodle courses, enrol selected participants, pull completion evidence.

The public API is small: :func:`moodle_sync.ws.connect` gives a :class:`~moodle_sync.ws.moodle.Moodle`
for a site; :func:`moodle_sync.config.load_settings` reads settings; the exceptions live in
:mod:`moodle_sync.exceptions`. Everything else is reached through the ``moodle-sync`` command.
"""

from ._version import __version__

__all__ = ["__version__"]
