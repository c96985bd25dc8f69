"""`Limits`: how large a document and how long its cleaning may be; and how many cleaning
processes a pool may start (`check_workers`).

Apart from `filter.cleaner` so that reading them (the command line's defaults and checks)
does not import the pipeline: scikit-learn, trafilatura and the model's code take seconds to
import, during which `noisefilter --help` waited and Ctrl-C gave a traceback.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
from dataclasses import dataclass

#: the largest `Limits.max_bytes` (1 TiB): more than any page, and within what zlib and the
#: operating system can be asked for (a limit of 2**63 bytes overflowed them)
MAX_BYTES = 1 << 40
#: the most cleaning processes a pool may have per core (`max_workers`): the cleaning is CPU
#: work, so more only share the cores, each with its own copy of the model; a mistyped
#: `--workers 400` started 400 processes on a two-core machine, for three documents
WORKERS_PER_CORE = 8


def usable_cores() -> int:
    """The cores this process may run on: the CPU affinity mask (taskset, a container's cpuset,
    systemd's CPUAffinity=) rather than every core of the machine. The default number of
    cleaning processes of `noisefilter batch` and of the service."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # macOS, Windows
        return os.cpu_count() or 1


def max_workers() -> int:
    """The most cleaning processes one pool may start here (`WORKERS_PER_CORE` per core)."""
    return WORKERS_PER_CORE * usable_cores()


def check_workers(count: int, name: str = "workers") -> None:
    """Refuse more cleaning processes than `max_workers`, naming the setting (`name`)."""
    if count > max_workers():
        raise ValueError(f"{name} must be at most {max_workers()} ({WORKERS_PER_CORE} per core "
                         f"this process may use, {usable_cores()}), not {count}")


def seconds(value: object, name: str) -> float:
    """`value` as a time limit in seconds, or ValueError naming the setting (`name`): a finite
    number above 0, numpy's included (a limit read from a config array), a bool not. 0 or less
    failed every document as a time out, NaN was never exceeded, and infinity or an int too
    large for a float (OverflowError) crashed the scheduling of `clean_many`."""
    try:
        limit = (float(value) if isinstance(value, numbers.Real) and not isinstance(value, bool)
                 else math.nan)
    except OverflowError:
        limit = math.inf
    if not (math.isfinite(limit) and limit > 0):
        raise ValueError(f"{name} must be a finite number of seconds above 0, not {value!r}")
    return limit


@dataclass(frozen=True)
class Limits:
    """Per-document limits. `max_bytes` is checked before parsing. `timeout` (seconds) is a hard
    limit where cleaning runs in worker processes (`clean_many`, the service), which end a
    document that overruns; a plain `clean()` or `clean_text()` call checks it between stages
    and while classifying a long page (`Deadline`), since a thread cannot be stopped inside
    lxml, trafilatura or scikit-learn."""

    max_bytes: int = 10_000_000
    timeout: float = 30.0

    def __post_init__(self) -> None:
        # refused here, where the mistake is made: a limit of 0 or less refused every document
        # as too large or too slow, and a NaN timeout was never exceeded (no limit at all).
        # numpy's numbers are taken (a limit read from a config array, as `clean_many`'s
        # workers are): they were refused as "not a whole number"
        try:
            max_bytes = operator.index(self.max_bytes)
        except TypeError:
            max_bytes = 0
        if isinstance(self.max_bytes, bool) or not 1 <= max_bytes <= MAX_BYTES:
            raise ValueError(f"Limits.max_bytes must be a whole number of bytes from 1 to "
                             f"{MAX_BYTES:,} (1 TiB), not {self.max_bytes!r}")
        timeout = seconds(self.timeout, "Limits.timeout")
        object.__setattr__(self, "max_bytes", max_bytes)  # frozen: set once, as plain numbers
        object.__setattr__(self, "timeout", timeout)
