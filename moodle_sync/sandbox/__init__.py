"""A stateful fake Moodle 4.5 web-service site for tests, demos and benchmarks (like moto for AWS).

>>> with SandboxServer() as site:            # doctest: +SKIP
...     client = MoodleClient(RestTransport(site.url, site.token))
...     client.call("core_webservice_get_site_info")

It answers with the real 4.5 response shapes and errors, checks parameters against the real
signatures, keeps everything in memory (optionally saved to a JSON file), and has test controls
(``site.control``) for latency, injected faults, completions, grades and cron.
"""

from __future__ import annotations

from .errors import SandboxMoodleError
from .moodle import SandboxMoodle
from .server import SandboxServer

__all__ = ["SandboxMoodle", "SandboxMoodleError", "SandboxServer"]
