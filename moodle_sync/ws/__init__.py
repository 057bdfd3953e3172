"""The only code that talks to Moodle: transports, the client, batching, typed operations."""

from __future__ import annotations

from ..exceptions import ConfigError
from .moodle import Moodle
from .transport import CallStats, MoodleClient, RetryPolicy, Transport

__all__ = ["CallStats", "Moodle", "MoodleClient", "RetryPolicy", "Transport", "connect", "make_transport"]


def make_transport(url: str, token: str, *, protocol: str = "rest", verify: bool | str = True,
                   pool_size: int = 8) -> Transport:
    """A REST or SOAP transport for ``url`` with ``token``."""
    if protocol == "rest":
        from .rest import RestTransport

        return RestTransport(url, token, verify=verify, pool_size=pool_size)
    if protocol == "soap":
        from .soap import SoapTransport

        return SoapTransport(url, token, verify=verify, pool_size=pool_size)
    raise ConfigError(f"protocol: {protocol!r} is not one of rest, soap")


def connect(url: str, token: str, *, protocol: str = "rest", verify: bool | str = True,
            timeout: float = 60.0, retries: int = 4, max_input_vars: int = 1000,
            concurrency: int = 4, write_concurrency: int = 2, validate: bool = True,
            stats: CallStats | None = None) -> Moodle:
    """A :class:`~moodle_sync.ws.moodle.Moodle` (typed operations) over a new client for the site.

    ``concurrency`` bounds reads side by side, ``write_concurrency`` writes; ``validate`` and ``stats`` as
    for :class:`MoodleClient`. Raises :class:`~moodle_sync.exceptions.ConfigError` for an unknown
    ``protocol``.
    """
    transport = make_transport(url, token, protocol=protocol, verify=verify, pool_size=max(8, concurrency))
    client = MoodleClient(transport, timeout=timeout, retry=RetryPolicy(attempts=retries),
                          max_input_vars=max_input_vars, concurrency=concurrency,
                          write_concurrency=write_concurrency, validate=validate, stats=stats)
    return Moodle(client)
