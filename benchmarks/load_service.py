"""Load run of the HTTP service on loopback, beside the library and trafilatura on the same pages in
the same run.

    .venv/bin/python benchmarks/load_service.py [--pages 300] [--requests 2000] [--concurrency 16]

1. reads real pages from ``../shared/data/wcxb-dev/html/*.html.gz`` (never copied anywhere);
2. cleans each page once with the library in this process (`Cleaner.clean`, single-threaded
   like a service worker): the library's pages/s; and runs ``trafilatura.extract(html)`` on
   each page once, the yardstick of every speed figure;
3. starts ``noisefilter serve`` on 127.0.0.1 (a free port) and posts the pages as raw
   ``text/html`` bodies, ``--requests`` in all, ``--concurrency`` at a time, cycling through the
   pages, after a short warm-up that is not counted;
4. prints requests/s, latency p50/p95/p99, errors (any response but 200, or a failed request),
   and the peak memory of the cleaning processes (from the service's /metrics), then stops
   the server. Exits 1 if there was an error or a cleaning process passed 300 MB.

The load generator runs on the same machine as the service and takes some of its CPU; the
figures are for this whole setup, on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2 as httpx  # the client Starlette and FastAPI moved to (same API as httpx)
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "wcxb-dev"
RSS_LIMIT = 300 * 2**20
#: bounds, so that a broken server cannot keep the run going
START_TIMEOUT = 120.0
RUN_TIMEOUT = 3600.0
REQUEST_TIMEOUT = 120.0


def load_pages(data: Path, count: int) -> list[tuple[str, str | None, bytes]]:
    """The first `count` pages by file name: (id, url from the ground truth, HTML bytes)."""
    files = sorted((data / "html").glob("*.html.gz"))[:count]
    if not files:
        sys.exit(f"no pages in {data / 'html'}")
    pages = []
    for path in files:
        page_id = path.name.split(".")[0]
        truth = data / "ground-truth" / f"{page_id}.json"
        url = json.loads(truth.read_text(encoding="utf-8")).get("url") if truth.exists() else None
        pages.append((page_id, url, gzip.decompress(path.read_bytes())))
    return pages


def library_rate(pages) -> tuple[float, int]:
    """Pages per second of `Cleaner.clean` over every page once, and how many it refused."""
    from filter import Cleaner, NoiseFilterError

    cleaner = Cleaner()
    refused = 0
    with threadpool_limits(1):
        started = time.perf_counter()
        for _, url, html in pages:
            try:
                cleaner.clean(html, url=url)
            except NoiseFilterError:
                refused += 1
        elapsed = time.perf_counter() - started
    return len(pages) / elapsed, refused


def trafilatura_rate(pages) -> float:
    """Pages per second of ``trafilatura.extract(html)`` with its defaults over every page once."""
    import trafilatura

    started = time.perf_counter()
    for _, _, html in pages:
        trafilatura.extract(html)
    return len(pages) / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int | None, work: Path) -> subprocess.Popen:
    """`noisefilter serve` in its own process group, its log and example store in `work`."""
    cmd = [sys.executable, "-m", "filter.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--log-level", "warning", "--examples-db", str((work / "ex.db").resolve())]
    if workers:
        cmd += ["--workers", str(workers)]
    log = work / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                cwd=ROOT)  # `-m` imports from the folder it runs in: this checkout
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    sys.exit(f"the server was not ready within {START_TIMEOUT:g} s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def load(port: int, pages, total: int, concurrency: int, warmup: int):
    """Send `total` requests, `concurrency` at a time; returns latencies (s), statuses and the
    wall time of the counted part."""
    base = f"http://127.0.0.1:{port}"
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    next_index = 0
    deadline = time.monotonic() + RUN_TIMEOUT

    async def one(client: httpx.AsyncClient, i: int, record: bool) -> None:
        _, url, html = pages[i % len(pages)]
        started = time.perf_counter()
        try:
            r = await client.post("/v1/clean", content=html, params={"url": url} if url else None,
                                  headers={"content-type": "text/html"})
            status = str(r.status_code)
        except httpx.HTTPError as err:
            status = type(err).__name__
        if record:
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    async def runner(client: httpx.AsyncClient) -> None:
        nonlocal next_index
        while next_index < total and time.monotonic() < deadline:
            i = next_index
            next_index += 1
            await one(client, i, record=True)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=REQUEST_TIMEOUT) as client:
        await asyncio.gather(*(one(client, len(pages) - 1 - i, record=False) for i in range(warmup)))
        started = time.perf_counter()
        await asyncio.gather(*(runner(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, statuses, wall


def metric(text: str, name: str) -> float | None:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)
    return float(found.group(1)) if found else None


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--pages", type=int, default=300, help="distinct pages (default 300)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, help="cleaning processes (default: the service's)")
    args = parser.parse_args(argv)

    pages = load_pages(args.data, args.pages)
    megabytes = sum(len(p[2]) for p in pages) / 1e6
    print(f"pages: {len(pages)} from {args.data / 'html'} ({megabytes:.1f} MB of HTML, "
          f"mean {megabytes * 1000 / len(pages):.0f} KB)")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")

    traf = trafilatura_rate(pages)
    print(f"trafilatura.extract(html): {traf:.2f} pages/s (one process, each page once)")
    rate, refused = library_rate(pages)
    print(f"library: {rate:.2f} pages/s (Cleaner.clean, one process, one thread, each page once; "
          f"{refused} refused) = {rate / traf:.2f} x trafilatura's")

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nf-load-") as work:
        proc = start_server(port, args.workers, Path(work))
        try:
            warmup = args.concurrency
            before = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
            client_cpu = time.process_time()
            latencies, statuses, wall = asyncio.run(
                load(port, pages, args.requests, args.concurrency, warmup))
            client_cpu = time.process_time() - client_cpu
            scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
        finally:
            stop_server(proc)
    workers = metric(scraped, "noisefilter_workers")
    worker_rss = metric(scraped, "noisefilter_worker_peak_rss_bytes") or 0
    http_rss = metric(scraped, "process_resident_memory_bytes") or 0
    done = len(latencies)
    errors = done - statuses.get("200", 0) + (args.requests - done)
    ms = [v * 1000 for v in latencies]

    print(f"service: {done / wall:.2f} requests/s through HTTP ({done} requests, concurrency "
          f"{args.concurrency}, {workers:.0f} cleaning processes, {warmup} warm-up requests not "
          f"counted) = {done / wall / rate:.2f} x the library's pages/s, "
          f"{done / wall / traf:.2f} x trafilatura's")
    print(f"latency: p50 {percentile(ms, 50):.0f} ms, p95 {percentile(ms, 95):.0f} ms, "
          f"p99 {percentile(ms, 99):.0f} ms, max {max(ms):.0f} ms")
    print(f"errors: {errors} (statuses: {json.dumps(statuses, sort_keys=True)})")
    print(f"memory: cleaning process peak RSS {worker_rss / 2**20:.0f} MB (largest of the pool), "
          f"HTTP process RSS {http_rss / 2**20:.0f} MB")
    cleaned = {name: (metric(scraped, f'noisefilter_clean_duration_seconds_{name}{{input="html"}}') or 0)
               - (metric(before, f'noisefilter_clean_duration_seconds_{name}{{input="html"}}') or 0)
               for name in ("sum", "count")}
    print(f"cleaning time per page: {cleaned['sum'] * 1000 / max(cleaned['count'], 1):.0f} ms in the "
          f"service's processes, {1000 / rate:.0f} ms in the library run, {1000 / traf:.0f} ms "
          f"for trafilatura.extract")
    http_cpu = (metric(scraped, "process_cpu_seconds_total") or 0) - (
        metric(before, "process_cpu_seconds_total") or 0)
    print(f"CPU per request outside the cleaning processes: HTTP process {http_cpu * 1000 / done:.1f} ms, "
          f"load generator {client_cpu * 1000 / done:.1f} ms")
    print(f"machine: load average {os.getloadavg()[0]:.2f} at end")
    if refused:
        print(f"note: the library refused {refused} of the pages; the service answers 4xx for "
              f"them, counted above as errors")
    return 1 if errors or worker_rss > RSS_LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
