"""A small progress bar on standard error, for the long steps of `noisefilter train|evaluate`.

Why not tqdm: the bar is twenty lines, and training should not need one more dependency. On a
terminal the bar redraws in place; when standard error is a file or a pipe (CI logs, tests) it
prints one line per tenth of the work, so logs stay short and still show that work goes on.
Fitting the classifier is one call that cannot report progress, so `phase` shows a running clock.
"""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import TextIO


class Progress:
    """``with Progress(total, "extracting") as bar: …; bar.update(1)``."""

    def __init__(self, total: int, desc: str, stream: TextIO | None = None, width: int = 30):
        self.total = max(int(total), 0)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.started = time.monotonic()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def __enter__(self) -> Progress:
        self._draw()
        return self

    def __exit__(self, *exc) -> None:
        if self.tty:
            self.stream.write("\n")
        elif self._last_tenth < 10:
            self._draw(force=True)
        self.stream.flush()

    def update(self, n: int = 1) -> None:
        self.done = min(self.done + n, self.total) if self.total else self.done + n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        share = self.done / self.total if self.total else 1.0
        elapsed = time.monotonic() - self.started
        line = (f"{self.desc} [{'#' * int(share * self.width):<{self.width}}] "
                f"{self.done}/{self.total} {elapsed:5.1f}s")
        if self.tty:
            self.stream.write("\r" + line)
        else:
            tenth = int(share * 10)
            if tenth == self._last_tenth and not force:
                return
            self._last_tenth = tenth
            self.stream.write(line + "\n")
        self.stream.flush()


@contextmanager
def phase(desc: str, stream: TextIO | None = None, every: float = 5.0):
    """Show that a single long call is running: a clock redrawn in place on a terminal, else a
    line every `every` seconds, and the total time when it ends."""
    stream = stream if stream is not None else sys.stderr
    tty = bool(getattr(stream, "isatty", lambda: False)())
    started = time.monotonic()
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.5 if tty else every):
            elapsed = time.monotonic() - started
            stream.write(f"\r{desc} … {elapsed:5.1f}s" if tty else f"{desc} … {elapsed:.0f}s\n")
            stream.flush()

    stream.write(f"{desc} …" + ("" if tty else "\n"))
    stream.flush()
    clock = threading.Thread(target=tick, daemon=True)
    clock.start()
    outcome = "stopped after"  # an error or Ctrl-C: not "done"
    try:
        yield
        outcome = "done in"
    finally:
        stop.set()
        clock.join()
        elapsed = time.monotonic() - started
        stream.write(f"{chr(13) if tty else ''}{desc} {outcome} {elapsed:.1f}s\n")
        stream.flush()
