"""Service settings: command-line flags over ``NOISEFILTER_*`` environment variables over defaults.

One frozen object built at start-up and handed to `create_app`, so a test can run an app with
other limits without touching the environment, and a running app's limits cannot drift.
"""

from __future__ import annotations

import difflib
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from filter import Limits
from filter.cleaner import MAX_BYTES
from filter.limits import check_workers, usable_cores

ENV_PREFIX = "NOISEFILTER_"
#: the longest `timeout`, in seconds: the pool waits for a reply with `Connection.poll`, which
#: takes at most 2**31 - 1 ms (about 24.8 days); above it every document failed (OverflowError)
MAX_TIMEOUT = 2_147_483
#: the levels `--log-level` offers (uvicorn's names); NOISEFILTER_LOG_LEVEL takes them in any case
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def default_examples_db() -> Path:
    """The example store's default file: per user, outside the project and the working folder,
    so that labels saved from the labelling page survive a fresh checkout."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "noisefilter" / "examples.db"


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told. `workers` is the number of cleaning processes; the
    HTTP side is one process with an event loop that only waits, so it needs no more."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = field(default_factory=lambda: usable_cores())
    #: a model file: a name in the models folder or a path the operator trusts (default: active)
    model: str | None = None
    #: largest document, in bytes, as the library counts it (`filter.Limits.max_bytes`)
    max_bytes: int = Limits.max_bytes
    #: seconds one document may take before its process is killed (`filter.Limits.timeout`)
    timeout: float = Limits.timeout
    #: largest request body; default 3 x max_bytes + 64 KiB: a labelled page (POST /v1/examples)
    #: carries its document and the text of its blocks, with room for JSON escaping
    max_body_bytes: int | None = None
    #: most documents in one `POST /v1/clean/batch`
    max_batch: int = 64
    #: seconds a request may wait for a free cleaning process before it gets 503
    queue_timeout: float = 30.0
    #: `favor_precision` for the documents that do not say (a document's own value wins)
    favor_precision: bool = False
    #: when set, write endpoints need it in the ``X-API-Key`` header (environment only: a flag
    #: would show the key to every user of the machine in the process list)
    api_key: str | None = None
    examples_db: Path = field(default_factory=default_examples_db)
    log_level: str = "info"
    #: on a service listening on a loopback address, more `Host` names it answers besides the
    #: loopback ones (comma-separated: a proxy on this machine that passes on the public
    #: name), or ``*`` for any (`api.hosts`)
    allowed_hosts: str | None = None

    def __post_init__(self) -> None:
        if not self.host.strip():  # uvicorn took it for every address; label printed http://:port
            raise ValueError("host must not be empty (0.0.0.0 for every IPv4 address)")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {self.port}")
        for name in ("workers", "max_bytes", "max_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive number, not {getattr(self, name)}")
        check_workers(self.workers)
        if self.max_bytes > MAX_BYTES:  # the workers' Limits would refuse it, each at start-up
            raise ValueError(f"max_bytes must be at most {MAX_BYTES:,} (1 TiB), not {self.max_bytes}")
        for name in ("timeout", "queue_timeout"):  # inf and nan would mean no limit at all
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"{name} must be a finite number of seconds above 0, not "
                                 f"{getattr(self, name)}")
        if self.timeout > MAX_TIMEOUT:
            raise ValueError(f"timeout must be at most {MAX_TIMEOUT:,} seconds (about 24 days), "
                             f"not {self.timeout}")
        if self.max_body_bytes is not None and self.max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be positive, not {self.max_body_bytes}")
        level = str(self.log_level).strip().lower()
        if level not in LOG_LEVELS:  # else logging raises at start-up, with a traceback
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}, not "
                             f"{self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        if self.api_key == "":
            object.__setattr__(self, "api_key", None)
        key = self.api_key
        if key is not None and not (key.isascii() and key.isprintable() and key == key.strip()):
            # such a key never matched: every request got 401, which only looks like a wrong key
            raise ValueError("NOISEFILTER_API_KEY must be printable ASCII without spaces at "
                             "either end: no request could match another key (X-API-Key is "
                             "read as Latin-1, without the spaces around it)")

    @property
    def extra_hosts(self) -> tuple[str, ...]:
        """`allowed_hosts` as lower-case names."""
        return tuple(h.strip().lower() for h in (self.allowed_hosts or "").split(",") if h.strip())

    @property
    def body_limit(self) -> int:
        return self.max_body_bytes or 3 * self.max_bytes + 65536

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        """Settings from ``NOISEFILTER_<NAME>`` variables, then `overrides` (flags; None means
        "not given"). Raises `ValueError` naming the variable for a value of the wrong type."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, raw, ENV_PREFIX + f.name.upper())
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def unknown_variables(environ: dict[str, str] | None = None) -> list[str]:
    """A warning for each ``NOISEFILTER_*`` variable that is no setting (nor the models folder's
    `NOISEFILTER_MODELS_DIR`), with the setting it is closest to: a misspelt one was ignored
    without a word, ``NOISEFILTER_APIKEY`` leaving the write endpoints open."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)} | _OTHER_VARIABLES
    warnings = []
    for name in sorted(n for n in environ if n.startswith(ENV_PREFIX) and n not in known):
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        hint = f" (did you mean {close[0]}?)" if close else ""
        warnings.append(f"{name} is no setting of the service{hint}; it is ignored")
    return warnings


#: NOISEFILTER_* variables read elsewhere: the models folder, the test suite's slow tests
_OTHER_VARIABLES = {"NOISEFILTER_MODELS_DIR", "NOISEFILTER_SLOW_TESTS"}
_INTS = {"port", "workers", "max_bytes", "max_body_bytes", "max_batch"}
_FLOATS = {"timeout", "queue_timeout"}
_FLAGS = {"favor_precision"}


def _convert(name: str, raw: str, source: str):
    try:
        if name in _INTS:
            return int(raw)
        if name in _FLOATS:
            return float(raw)
    except ValueError:
        kind = "a whole number" if name in _INTS else "a number"
        raise ValueError(f"{source} must be {kind}, not {raw!r}") from None
    if name in _FLAGS:  # as the query's flags read: true or false, in any case
        if raw.strip().lower() not in ("true", "false"):
            raise ValueError(f"{source} must be true or false, not {raw!r}")
        return raw.strip().lower() == "true"
    if name == "examples_db":
        return Path(raw)
    return raw
