"""Settings: profiles in a TOML file, the environment, command-line flags; the token kept secret.

Precedence, highest first: command-line flag > environment > config file > default.
The file is found by ``--config``, then ``MOODLE_SYNC_CONFIG``, then the platform's user config dir
(``~/.config/moodle-sync/config.toml`` on Linux). ``MOODLE_URL`` + ``MOODLE_TOKEN`` alone are enough.

The token of profile NAME comes from ``MOODLE_TOKEN_NAME`` (:func:`token_variable`), ``MOODLE_TOKEN``, a
helper command (``token_command``), or the OS keyring (``keyring set moodle-sync NAME``); a token written into
the config file is refused. ``MOODLE_TOKEN`` and ``MOODLE_URL`` name one site: a command working on several
profiles at once refuses them (:func:`check_one_site_settings`), so one site's token is never sent to another.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .exceptions import ConfigError, mask_url, register_secret
from .files import write_private_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

log = logging.getLogger("moodle_sync.config")

KEYRING_SERVICE = "moodle-sync"
PROTOCOLS = ("rest", "soap")

# Environment variable -> setting name.
ENVIRONMENT = {
    "MOODLE_URL": "url",
    "MOODLE_PROTOCOL": "protocol",
    "MOODLE_SYNC_STORE": "store",
    "MOODLE_SYNC_CONCURRENCY": "concurrency",
    "MOODLE_SYNC_WRITE_CONCURRENCY": "write_concurrency",
    "MOODLE_SYNC_MAX_INPUT_VARS": "max_input_vars",
    "MOODLE_SYNC_TIMEOUT": "timeout",
    "MOODLE_SYNC_RETRIES": "retries",
    "MOODLE_SYNC_CA_BUNDLE": "ca_bundle",
    "MOODLE_SYNC_INSECURE": "insecure_skip_tls_verify",
    "MOODLE_SYNC_TEMPLATES": "templates_dir",
    "MOODLE_SYNC_REPORT_ID": "completion_report_id",
    "MOODLE_SYNC_PULL_GRADES": "pull_grades",
}

STARTER_CONFIG = '''\
# moodle-sync configuration. Each [profiles.NAME] table describes one Moodle site.
# Choose one with --profile NAME or MOODLE_SYNC_PROFILE; "default" is used otherwise.
# Precedence: command-line flag > environment (MOODLE_URL, MOODLE_TOKEN, MOODLE_PROTOCOL, ...) > this file.
#
# The token is NEVER written here. Give it as MOODLE_TOKEN, or store it in the OS keyring:
#     python -m keyring set moodle-sync default
# or name a command that prints it (a password manager, for example): token_command = "pass show moodle"

[profiles.default]
url = "https://lms.example.org"       # the site's address (https)
protocol = "rest"                     # rest or soap
# token_command = "pass show moodle/bgtk"
timeout = 60                          # seconds to wait for one call
retries = 4                           # attempts for reads (writes are never re-sent blindly)
max_input_vars = 1000                 # PHP max_input_vars of the site (Moodle 4.5 asks for 5000)
concurrency = 4                       # independent reads at once
write_concurrency = 2                 # batches of writes at once (about the site's CPU cores)
# store = "sqlite:////var/lib/moodle-sync/evidence.sqlite"   # or postgresql+psycopg://user@host/db
student_role_id = 5                   # Moodle's default "student"
# facilitator_role_id = 3             # this site's id of the facilitators' role (default: the template's
                                     # facilitator_role as a standard Moodle numbers it: 3 editingteacher, 4 teacher)
new_user_auth = "manual"              # manual (Moodle e-mails a generated password) or oauth2
# completion_report_id = 12           # a custom report over "Course participants" for fast pulls
# pull_grades = "on-activity"         # incremental pulls read a course's grades only after course activity
# ca_bundle = "/etc/ssl/certs/my-ca.pem"
# insecure_skip_tls_verify = false    # only for a throw-away test site with a self-signed certificate
'''


def default_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("moodle-sync")) / "config.toml"


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("moodle-sync"))


def token_variable(profile: str) -> str:
    """The environment variable holding profile ``profile``'s token: ``MOODLE_TOKEN_`` and the name
    upper-cased, each character other than a letter or digit made ``_`` (``lampung-bgtk`` ->
    ``MOODLE_TOKEN_LAMPUNG_BGTK``)."""
    return "MOODLE_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", profile.upper())


def check_one_site_settings(profiles: list[str], overrides: Mapping[str, Any],
                            environ: Mapping[str, str] | None = None) -> None:
    """Refuse what names one site when a command works on several ``profiles`` at once: ``MOODLE_TOKEN``
    would be sent to every site, ``MOODLE_URL`` or ``--url`` would point every profile at one site.

    Raises :class:`ConfigError` naming each profile's own variable instead. Nothing for one profile.
    """
    if len(set(profiles)) < 2:
        return
    env = os.environ if environ is None else environ
    _check_token_variables(list(dict.fromkeys(profiles)), env)
    named = [what for what, given in (("MOODLE_TOKEN", env.get("MOODLE_TOKEN", "").strip()),
                                      ("MOODLE_URL", env.get("MOODLE_URL", "").strip()),
                                      ("--url", overrides.get("url"))) if given]
    if not named:
        return
    remedy = [f"unset {name}" if name != "--url" else "drop --url" for name in named]
    raise ConfigError(
        f"{' and '.join(named)} {'name' if len(named) > 1 else 'names'} one site, but {len(profiles)} profiles are given ({', '.join(profiles)}): "
        f"each profile takes its url from the config file and its token from "
        f"{', '.join(token_variable(p) for p in profiles)}, the keyring ('python -m keyring set "
        f"{KEYRING_SERVICE} NAME') or its token_command; {' and '.join(remedy)}")


def _check_token_variables(profiles: list[str], env: Mapping[str, str]) -> None:
    """Refuse profiles whose token variables are one and the same and set (``bgtk-a`` and ``bgtk_a`` both read
    ``MOODLE_TOKEN_BGTK_A``): one site's token would be sent to the other. Raises :class:`ConfigError`."""
    by_variable: dict[str, list[str]] = {}
    for profile in profiles:
        by_variable.setdefault(token_variable(profile), []).append(profile)
    for variable, sharing in by_variable.items():
        if len(sharing) > 1 and env.get(variable, "").strip():
            raise ConfigError(f"profiles {' and '.join(sharing)} both take their token from {variable}: one site's "
                              f"token would be sent to the other; rename one of them in the config file (or give "
                              f"their tokens through the keyring or token_command, and unset {variable})")


@dataclass(frozen=True)
class Settings:
    """Everything a command needs to reach a site and keep its records. Never holds the token."""

    profile: str = "default"
    url: str | None = None
    protocol: str = "rest"
    token_command: str | None = None
    timeout: float = 60.0
    retries: int = 4
    max_input_vars: int = 1000
    concurrency: int = 4
    write_concurrency: int = 2
    store: str | None = None
    ca_bundle: str | None = None
    insecure_skip_tls_verify: bool = False
    student_role_id: int = 5
    facilitator_role_id: int | None = None   # None: the id a standard Moodle gives the template's role
    new_user_auth: str = "manual"
    templates_dir: str | None = None
    completion_report_id: int | None = None
    pull_grades: str = "always"
    config_path: str | None = None
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def store_url(self) -> str:
        """The evidence/audit store as an SQLAlchemy URL (SQLite in the user data dir by default)."""
        if self.store:
            return self.store if "://" in self.store else f"sqlite:///{Path(self.store).expanduser()}"
        return f"sqlite:///{default_data_dir() / 'moodle-sync.sqlite'}"

    @property
    def verify(self) -> bool | str:
        """What the HTTP client verifies the site's certificate with: False, a CA bundle's path, or True."""
        if self.insecure_skip_tls_verify:
            return False
        return self.ca_bundle or True

    @property
    def store_url_shown(self) -> str:
        """:attr:`store_url` as it may be printed or logged: a database password masked."""
        return mask_url(self.store_url)

    def public_dict(self) -> dict[str, Any]:
        """The settings as shown by ``config show`` / ``--json``: no token (by construction), the store's
        database password masked."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"}
        if self.store:
            out["store"] = mask_url(self.store)
        out["sources"] = dict(self.sources)
        return out

    def token(self) -> str:
        """The token: ``MOODLE_TOKEN_<PROFILE>``, else ``MOODLE_TOKEN``, else ``token_command``'s output, else
        the OS keyring entry of this profile.

        Raises :class:`ConfigError` naming the ways when none gives one.
        """
        token = os.environ.get(token_variable(self.profile), "").strip()
        token = token or os.environ.get("MOODLE_TOKEN", "").strip()
        if not token and self.token_command:
            token = _run_token_command(self.token_command)
        if not token:
            token = _keyring_token(self.profile)
        if not token:
            raise ConfigError(
                f"no web-service token for profile {self.profile!r}: set {token_variable(self.profile)} (or "
                f"MOODLE_TOKEN), or store it with 'python -m keyring set {KEYRING_SERVICE} {self.profile}', or "
                "set token_command in the config file")
        register_secret(token)
        return token

    def token_source(self) -> str:
        """Where :meth:`token` would take the token from, without showing it or running ``token_command``:
        the environment variable's name, ``token_command``, ``keyring``, or ``none``."""
        for variable in (token_variable(self.profile), "MOODLE_TOKEN"):
            if os.environ.get(variable, "").strip():
                return variable
        if self.token_command:
            return "token_command"
        return "keyring" if _keyring_token(self.profile) else "none"

    def require_url(self) -> str:
        """The site's address; raises :class:`ConfigError` saying how to give one when there is none."""
        if not self.url:
            if self.config_path and self.profile == "default" and "url" not in self.sources:
                profiles = _read_profiles(Path(self.config_path), "default")
                names = ", ".join(sorted(profiles))
                if profiles and "default" not in profiles:
                    raise ConfigError(f"{self.config_path}: no profile 'default': choose a site with --profile "
                                      f"(profiles: {names})")
            raise ConfigError("no Moodle site: set MOODLE_URL, pass --url, or set url in the config file "
                              "(moodle-sync config init writes a starter file)")
        return self.url


def _run_token_command(command: str) -> str:
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"token_command could not run: {type(exc).__name__}") from None
    if done.returncode != 0:
        raise ConfigError(f"token_command exited with {done.returncode}")
    return done.stdout.strip()


def _keyring_token(profile: str) -> str:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:  # pragma: no cover - keyring is a dependency
        return ""
    try:
        return (keyring.get_password(KEYRING_SERVICE, profile) or "").strip()
    except (KeyringError, RuntimeError, OSError):
        log.debug("no usable OS keyring")
        return ""


def _coerce(name: str, value: Any, origin: str) -> Any:
    """``value`` of setting ``name`` as the setting's type (text from the environment or a flag); raises
    :class:`ConfigError` naming ``origin`` when it is not one."""
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    try:
        if "bool" in kind and not isinstance(value, bool):
            text = str(value).strip().lower()
            if text not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                raise ValueError(value)
            return text in ("1", "true", "yes", "on")
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{origin}: {name}: {value!r} is not a valid {kind.split(' ')[0]}") from None
    return value


def _validate(settings: Settings) -> Settings:
    if settings.protocol not in PROTOCOLS:
        raise ConfigError(f"protocol: {settings.protocol!r} is not one of {', '.join(PROTOCOLS)} "
                          f"(from {settings.sources.get('protocol', 'default')})")
    if settings.pull_grades not in ("always", "on-activity"):
        raise ConfigError(f"pull_grades: {settings.pull_grades!r} is not always or on-activity")
    if settings.new_user_auth not in ("manual", "oauth2", "email", "ldap", "cas", "shibboleth"):
        raise ConfigError(f"new_user_auth: {settings.new_user_auth!r} is not a Moodle auth plugin we support")
    for name in ("concurrency", "write_concurrency", "max_input_vars", "retries"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1 (from {settings.sources.get(name, 'default')})")
    if settings.url:
        _check_site_url(settings.url, settings.sources.get("url", "default"))
    return settings


def _check_site_url(url: str, origin: str) -> None:
    """Refuse a site address that carries more than ``https://HOST[/PATH]``: a user name or password, a
    query or a fragment may hold the token (``?wstoken=...``), so the URL is never echoed then."""
    carried = [what for mark, what in (("@", "a user name or password (user@host)"), ("?", "a query (?...)"),
                                       ("#", "a fragment (#...)")) if mark in url]
    if carried:
        raise ConfigError(
            f"url (from {origin}): the site's address must not carry {' or '.join(carried)}: it may hold the "
            "token, and a token is never written into a URL or a file (the URL is not shown here for that "
            "reason). Give only https://HOST[/PATH] and the token as MOODLE_TOKEN, with "
            f"'python -m keyring set {KEYRING_SERVICE} PROFILE', or with token_command")
    if not url.startswith(("https://", "http://")):
        raise ConfigError(f"url: {url!r} must start with https:// (or http:// for a local test site)")


def _token_refused(path: Path, where: str, key: str, profile: str) -> ConfigError:
    return ConfigError(
        f"{path}: {where}{key}: a token must not be written into the config file (anyone who can read the "
        f"file could act as that Moodle user). Remove it and give the token as {token_variable(profile)}, with "
        f"'python -m keyring set {KEYRING_SERVICE} {profile}', or with token_command")


def _is_token_key(key: str) -> bool:
    return "token" in key.lower() and key != "token_command"


def _check_top_level(path: Path, document: Mapping[str, Any], profile: str) -> None:
    """Only ``[profiles.NAME]`` tables are read: a setting outside them would be silently ignored, so it is
    refused (a token first of all, with the reason)."""
    outside = sorted(k for k in document if k != "profiles")
    for key in outside:
        if _is_token_key(key):
            raise _token_refused(path, "", key, profile)
    if outside:
        raise ConfigError(f"{path}: {', '.join(outside)}: settings outside a [profiles.NAME] table are not "
                          f"read; move them under [profiles.{profile}]")
    if not isinstance(document.get("profiles", {}), dict):
        raise ConfigError(f"{path}: profiles must be tables such as [profiles.{profile}]")


def _read_profiles(path: Path, profile: str) -> dict[str, dict[str, Any]]:
    """Every ``[profiles.NAME]`` table of a config file, checked: valid TOML, nothing outside the tables,
    no token in any of them (``profile`` names the table a message suggests)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _check_top_level(path, document, profile)
    profiles: dict[str, Any] = document.get("profiles", {})
    for name, table in profiles.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: profiles.{name} must be a table ([profiles.{name}])")
        for key in table:
            if _is_token_key(key):
                raise _token_refused(path, f"[profiles.{name}] ", key, name)
    return profiles


def read_config_file(path: Path, profile: str) -> dict[str, Any]:
    """The named profile of a config file (empty when the file has no profile at all). A token in the file,
    an unknown setting or an unknown profile is refused (:class:`ConfigError`)."""
    profiles = _read_profiles(path, profile)
    if profile not in profiles:
        if profiles:
            raise ConfigError(f"{path}: no profile {profile!r} (profiles: {', '.join(sorted(profiles))})")
        return {}
    known = {f.name for f in fields(Settings)} - {"profile", "config_path", "sources"}
    unknown = sorted(set(profiles[profile]) - known)
    if unknown:
        raise ConfigError(f"{path}: [profiles.{profile}] unknown settings: {', '.join(unknown)}")
    return dict(profiles[profile])


def config_file(config: str | os.PathLike[str] | None = None,
                environ: Mapping[str, str] | None = None) -> Path | None:
    """The config file in force: ``config`` (``--config``), else ``MOODLE_SYNC_CONFIG``, else the user
    config dir's file if it exists (else None). Raises :class:`ConfigError` when a named file is missing."""
    env = os.environ if environ is None else environ
    if config:
        path = Path(config).expanduser()
        if not path.exists():
            raise ConfigError(f"{path}: config file not found")
        return path
    if env.get("MOODLE_SYNC_CONFIG"):
        path = Path(env["MOODLE_SYNC_CONFIG"]).expanduser()
        if not path.exists():
            raise ConfigError(f"{path}: config file (from MOODLE_SYNC_CONFIG) not found")
        return path
    path = default_config_path()
    return path if path.exists() else None


def config_profiles(config: str | os.PathLike[str] | None = None,
                    environ: Mapping[str, str] | None = None) -> list[str]:
    """The names of the config file's profiles, sorted (what ``--all-profiles`` pulls).

    Raises :class:`ConfigError` when there is no config file or it has no profile, or as
    :func:`read_config_file` does for a file that is not valid."""
    path = config_file(config, environ)
    if path is None:
        raise ConfigError("no config file: every profile is a [profiles.NAME] table in one (moodle-sync config "
                          "init writes a starter file; --config or MOODLE_SYNC_CONFIG names another)")
    names = sorted(_read_profiles(path, "NAME"))
    if not names:
        raise ConfigError(f"{path}: no profile: add a [profiles.NAME] table per site")
    return names


def _profile_settings(path: Path, chosen: str | None) -> tuple[str, dict[str, Any]]:
    """The profile in force and its settings from the file. A profile named (``--profile``,
    ``MOODLE_SYNC_PROFILE``) must exist. With none named: ``default``; a file without ``default`` but with
    one profile uses that one; with several, only the settings every profile shares (such as one store)
    apply and the profile is ``default`` — a command that needs a site then asks for ``--profile``."""
    if chosen:
        return chosen, read_config_file(path, chosen)
    profiles = _read_profiles(path, "default")
    if "default" in profiles or not profiles:
        return "default", read_config_file(path, "default")
    if len(profiles) == 1:
        only = next(iter(profiles))
        return only, read_config_file(path, only)
    tables = [read_config_file(path, name) for name in sorted(profiles)]
    shared = {key: value for key, value in tables[0].items() if all(t.get(key) == value for t in tables[1:])}
    return "default", shared


def load_settings(*, config: str | os.PathLike[str] | None = None, profile: str | None = None,
                  overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from flags (``overrides``), the environment, the file, and defaults.

    Raises :class:`ConfigError` naming the file, variable or flag of a value that is not valid."""
    env = os.environ if environ is None else environ
    chosen = profile or env.get("MOODLE_SYNC_PROFILE")
    path = config_file(config, env)
    profile, from_file = (chosen or "default", {}) if path is None else _profile_settings(path, chosen)
    given: list[tuple[str, str, Any]] = []   # (setting, where from, value), lowest precedence first
    if path is not None:
        given += [(key, str(path), value) for key, value in from_file.items()]
    given += [(key, var, env[var]) for var, key in ENVIRONMENT.items() if env.get(var, "") != ""]
    given += [(key, "flag", value) for key, value in (overrides or {}).items() if value is not None]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, source, value in given:
        values[key] = _coerce(key, value, f"--{key.replace('_', '-')}" if source == "flag" else source)
        sources[key] = source
    settings = Settings(profile=profile, config_path=str(path) if path else None, sources=sources, **values)
    _register_store_password(settings.store_url)
    if settings.insecure_skip_tls_verify:
        log.warning("TLS certificate verification is OFF (insecure_skip_tls_verify): use only with a "
                    "throw-away test site")
    return _validate(settings)


def _register_store_password(url: str) -> None:
    """The store's database password is a secret like the token: masked in every error and log line."""
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return
    if password:
        register_secret(password)
        register_secret(unquote(password))


def write_starter_config(path: Path, *, force: bool = False) -> Path:
    """Write a commented starter config file; refuse to overwrite unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"{path}: already exists (use --force to overwrite)")
    return write_private_text(path, STARTER_CONFIG)
