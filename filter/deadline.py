"""`Deadline`: one document's time limit, checked between the stages of cleaning it.

A thread cannot be stopped inside lxml, trafilatura or scikit-learn, so an in-process call can
only give up between stages; checked after each, a slow page costs at most the limit plus the
stage it overran in, not every stage after it too (trafilatura's full pass, mapping tens of
thousands of blocks, classifying them). Worker processes (`clean_many`, the service) are also
killed at the limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from .errors import ExtractionTimeout


@dataclass(frozen=True)
class Deadline:
    """`seconds` from `started` (a `time.monotonic()` reading, by default now)."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self, next_stage: str) -> None:
        """Raise `ExtractionTimeout` if the time is up, naming the stage that would come next."""
        elapsed = time.monotonic() - self.started
        if elapsed > self.seconds:
            raise ExtractionTimeout(f"cleaning took {elapsed:.3g} s, over the limit of "
                                    f"{self.seconds:g} s (stopped before {next_stage})")
