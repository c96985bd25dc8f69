"""Speed of `noisefilter batch`: pages/s with 1 and 2 workers, and its overhead over calling the
library directly, beside trafilatura.extract on the same pages in the same run.

    .venv/bin/python benchmarks/batch_speed.py [--pages 150]

Pages are the first N of ../shared/data/wcxb-dev/html (read from there, never copied into the
repository). Four measures, each over the same pages:

1. ``trafilatura.extract(html)`` in a loop, in this process: the yardstick of the speed
   measure in DESIGN.md. (Also: reading the same pages out of a WARC.gz, to show what the
   container costs next to the cleaning.)
2. direct library calls: ``Cleaner.clean(html)`` in a loop in this process, one OpenMP thread
   (as the batch workers run), plus the JSON line each result would be written as.
3. and 4. the ``noisefilter batch`` command on a folder of those pages with ``--workers 1`` and
   ``--workers 2``; its rate is the one its own progress line counts (from the first page
   handed out to the last line written, so without the fixed start-up of importing the library
   and loading the model, which is reported apart), read unrounded (`BATCH`: the line shows
   0.1 page/s, ±0.4% at these rates).

The batch overhead is how much slower one batch worker is than the direct loop; the speed-up is
2 workers over 1. All four are measured in interleaved rounds and the median round of each is
reported (on a shared virtual machine rates swing both ways by 20% from run to run, so the
best round would pick outliers), with the load average of each round printed: other jobs on
the machine lower every rate, and the speed-up most.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import trafilatura
from threadpoolctl import threadpool_limits
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # time this checkout, in the loop and in the command alike

from filter import Cleaner, NoiseFilterError  # noqa: E402
from filter.batch import Outcome  # noqa: E402
from filter.inputs import Failure  # noqa: E402
from filter.warc import read_warc  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "wcxb-dev" / "html"


def write_warc(path: Path, pages: list[tuple[str, bytes]]) -> None:
    """The pages as HTTP responses in a per-record gzipped WARC, as crawlers write them."""
    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for name, html in pages:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                    protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://wcxb.test/{name}", "response", payload=io.BytesIO(html),
                http_headers=http))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


#: `noisefilter batch` as the console script runs it, with the closing progress line's time also
#: written unrounded
BATCH = """
import sys, time
from filter import batch
from filter.cli import main
close = batch.Progress.close
def close_timed(self):
    close(self)
    self.stream.write(f"benchmark: {self.pages} pages in {time.monotonic() - self.started:.6f} s\\n")
batch.Progress.close = close_timed
sys.exit(main(sys.argv[1:]))
"""


def run_batch(folder: Path, out: Path, workers: int) -> tuple[int, float, float, float, dict]:
    """Run the command; returns (pages, its own pages/s, wall seconds, CPU seconds of the
    command and its workers, {id: text})."""
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", BATCH, "batch", str(folder.resolve()),
                           "-o", str(out.resolve()), "--workers", str(workers), "--restart",
                           "--no-progress"], capture_output=True, text=True, check=True,
                          cwd=REPO)  # `-c` imports from the folder it runs in: this checkout
    wall = time.perf_counter() - started
    cpu = children_cpu() - cpu
    match = re.search(r"^benchmark: (\d+) pages in ([\d.]+) s$", proc.stderr, re.MULTILINE)
    pages, seconds = int(match.group(1)), float(match.group(2))
    texts = {}
    with open(out, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            texts[Path(record["id"]).name] = record["text"]
    return pages, pages / max(seconds, 1e-9), wall, cpu, texts


def trafilatura_rate(pages: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for _, html in pages:
        trafilatura.extract(html)
    return len(pages) / (time.perf_counter() - started)


def direct_rate(cleaner: Cleaner, pages: list[tuple[str, bytes]]) -> tuple[float, float, dict]:
    """The library called in a loop, each result turned into the line the batch would write;
    returns (pages/s, CPU seconds, {id: text})."""
    texts = {}
    with threadpool_limits(1):
        cpu = time.process_time()
        started = time.perf_counter()
        for name, html in pages:
            try:
                outcome = Outcome(id=name, result=cleaner.clean(html))
            except NoiseFilterError as err:
                outcome = Outcome(id=name, error=Failure(type(err).__name__, str(err)))
            texts[name] = json.loads(json.dumps(outcome.to_record(), ensure_ascii=False))["text"]
        rate = len(pages) / (time.perf_counter() - started)
        return rate, time.process_time() - cpu, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of all measures, interleaved; the median is reported")
    args = parser.parse_args()
    files = sorted(DATA.glob("*.html.gz"))[:args.pages]
    pages = [(f.name, gzip.decompress(f.read_bytes())) for f in files]
    n = len(pages)
    print(f"{n} pages: the first {n} of {DATA}; median of {args.rounds} interleaved rounds")

    started = time.perf_counter()
    cleaner = Cleaner()
    load = time.perf_counter() - started
    with threadpool_limits(1):
        cleaner.clean(pages[0][1])  # first call: lazy imports inside the pipeline
    seen: dict = {"traf": [], "direct": [], 1: [], 2: []}
    walls = {}
    cpus = {"direct": [], 1: [], 2: []}
    with tempfile.TemporaryDirectory() as tmp:
        warc = Path(tmp) / "pages.warc.gz"
        write_warc(warc, pages)
        started = time.perf_counter()
        read = sum(1 for doc in read_warc(warc) if doc.html is not None)
        reading = read / (time.perf_counter() - started)
        folder = Path(tmp) / "pages"
        folder.mkdir()
        for f in files:
            (folder / f.name).symlink_to(f)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        fixed_cpu = run_batch(empty, Path(tmp) / "empty.jsonl", 1)[3]  # start-up alone
        same = True
        for round_no in range(1, args.rounds + 1):
            rates = {"traf": trafilatura_rate(pages)}
            rates["direct"], cpu, direct_texts = direct_rate(cleaner, pages)
            cpus["direct"].append(cpu)
            for w in (1, 2):
                count, rates[w], walls[w], cpu, texts = run_batch(folder, Path(tmp) / "out.jsonl",
                                                                  w)
                cpus[w].append(cpu - fixed_cpu)
                same = same and count == n and texts == direct_texts
            print(f"round {round_no}: trafilatura {rates['traf']:.2f}, direct {rates['direct']:.2f}"
                  f", batch 1 worker {rates[1]:.2f}, 2 workers {rates[2]:.2f} pages/s "
                  f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores)")
            for key, values in seen.items():
                values.append(rates[key])
    median = {key: statistics.median(values) for key, values in seen.items()}

    print()
    print(f"{'trafilatura.extract, 1 process':<40} {median['traf']:7.2f} pages/s")
    print(f"{'direct Cleaner.clean loop, 1 process':<40} {median['direct']:7.2f} pages/s   "
          f"(pipeline time = {median['traf'] / median['direct']:.2f} x trafilatura.extract)")
    for w in (1, 2):
        note = (f"overhead over direct calls: {median['direct'] / median[1] - 1:+.1%}"
                if w == 1 else f"speed-up over 1 worker: {median[2] / median[1]:.2f}")
        print(f"{f'noisefilter batch --workers {w}':<40} {median[w]:7.2f} pages/s   {note}")
        print(f"{'':<40} (last run {walls[w]:.1f} s wall clock with start-up)")
    print(f"{'reading them from a WARC.gz (filter.warc)':<40} {reading:7.0f} pages/s   "
          f"({median['direct'] / reading:.1%} of the cleaning time)")
    # CPU time does not depend on what else runs on the machine, unlike the rates above
    per_page = {k: 1000 * statistics.median(v) / n for k, v in cpus.items()}
    print(f"CPU time per page (median; the batch's less its {fixed_cpu:.1f} s of "
          f"start-up): direct {per_page['direct']:.0f} ms, batch 1 worker {per_page[1]:.0f} ms "
          f"({per_page[1] / per_page['direct'] - 1:+.1%}), 2 workers {per_page[2]:.0f} ms "
          f"({per_page[2] / per_page['direct'] - 1:+.1%})")
    print()
    print(f"model loading in this process: {load:.1f} s; outputs of batch and direct calls "
          f"identical: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
