"""Speed of the whole pipeline against `trafilatura.extract(html)`, same pages, same process.

    python benchmarks/speed.py [--pages 300] [--rounds 3]
    python benchmarks/speed.py --full-pass-below 0    # the fast pass alone

Prints per-page times for trafilatura.extract (defaults) and for `Cleaner.clean`, their ratio,
the extraction's share of the pipeline (everything before the classifier, trafilatura's passes
included), how much of the extraction is trafilatura's own passes (timed around
`filter.extract._extract_trees`, with the count of pages that needed the full pass), the
classifier's share (features + model) and the rest, the model file's size and the model's load
time. Rounds alternate trafilatura and the pipeline so that machine noise hits both alike; the
median round is reported. The stages are timed inside the pipeline's rounds (the median one is
shown), so their shares add up: timed in rounds of their own, on this VM, whose speed moves
between minutes, they added up to more than the pipeline's time. Nothing is asserted: the
figures go into the README.

`--full-pass-below SHARE` times another trigger for trafilatura's full pass
(`filter.extract.FALLBACK_BELOW_SHARE`; 0: only where the fast pass keeps nothing), with the
shipped model; `benchmarks/quality.py` takes the same option for the quality it gives.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import trafilatura

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # time this checkout, not an installed copy
DATA = REPO.parent / "shared" / "data" / "wcxb-dev" / "html"


def commit() -> str:
    """The checkout's commit, "-dirty" when it has changes: the figures are that code's."""
    try:
        done = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "an unknown commit"
    return done.stdout.strip() or "an unknown commit"


def main() -> None:
    import filter.cleaner as cleaner_module
    import filter.extract as extract_module
    from filter import Cleaner
    from filter import __version__ as filter_version
    from filter.modelfile import active_model_path, load_model

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--full-pass-below", type=float, default=None, metavar="SHARE",
                        help="run trafilatura's full pass when its fast pass keeps less than this "
                             "share of the page's text (default: the library's, "
                             f"{extract_module.FALLBACK_BELOW_SHARE})")
    args = parser.parse_args()

    if args.full_pass_below is not None:
        extract_module.FALLBACK_BELOW_SHARE = args.full_pass_below

    files = sorted(args.data.glob("*.html.gz"))
    random.Random(0).shuffle(files)
    pages = [gzip.open(f).read() for f in files[: args.pages]]

    t = time.perf_counter()
    loaded = load_model(active_model_path())
    load_s = time.perf_counter() - t
    cleaner = Cleaner(model=loaded)
    for html in pages[:5]:  # warm-up: imports, regex compilation, dateparser locales
        trafilatura.extract(html)
        cleaner.clean(html)

    def run_trafilatura():
        for html in pages:
            trafilatura.extract(html)

    # the pipeline's stages are timed inside its own rounds, so that they add up to its time:
    # the extraction (`html_to_page`, trafilatura's passes within it, full passes counted) and
    # the classifier (`predict_page`: features + model); the rest builds the result
    spent = {"extraction": 0.0, "passes": 0.0, "classifier": 0.0, "full": 0}
    originals = (cleaner_module.html_to_page, extract_module._extract_trees, extract_module._bare)

    def timed(key, fn):
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - started
        return call

    def counted_bare(tree, url, fast):
        spent["full"] += not fast
        return originals[2](tree, url, fast)

    def run_pipeline():
        spent.update(extraction=0.0, passes=0.0, classifier=0.0, full=0)
        cleaner_module.html_to_page = timed("extraction", originals[0])
        extract_module._extract_trees = timed("passes", originals[1])
        extract_module._bare = counted_bare
        cleaner.model.predict_page = timed("classifier", cleaner.model.predict_page)
        try:
            for html in pages:
                cleaner.clean(html)
        finally:
            cleaner_module.html_to_page, extract_module._extract_trees, extract_module._bare = originals
            del cleaner.model.predict_page
        for key in ("extraction", "passes", "classifier"):
            rounds[key].append(spent[key])

    rounds = {"trafilatura": [], "pipeline": [], "extraction": [], "classifier": [], "passes": []}
    for _ in range(args.rounds):
        for name, fn in (("trafilatura", run_trafilatura), ("pipeline", run_pipeline)):
            t = time.perf_counter()
            fn()
            rounds[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in rounds.items() if k in ("trafilatura", "pipeline")}
    # the stages of the median pipeline round
    mid = sorted(range(args.rounds), key=rounds["pipeline"].__getitem__)[args.rounds // 2]
    stage = {k: rounds[k][mid] for k in ("extraction", "passes", "classifier")}
    pipeline = rounds["pipeline"][mid]
    n = len(pages)
    size_mb = active_model_path().stat().st_size / 1e6
    print(f"pages: {n} (WCXB dev, random sample, seed 0), rounds: {args.rounds} (median shown)")
    print(f"trafilatura.extract(html):  {1000 * med['trafilatura'] / n:7.1f} ms/page")
    print(f"noisefilter clean(html):    {1000 * med['pipeline'] / n:7.1f} ms/page")
    print(f"ratio pipeline/trafilatura: {med['pipeline'] / med['trafilatura']:7.3f}")
    print(f"extraction share:           {stage['extraction'] / pipeline:7.1%} "
          f"({1000 * stage['extraction'] / n:.1f} ms/page to decode, parse, run trafilatura, cut blocks)")
    print(f"  trafilatura's passes:      {1000 * stage['passes'] / n:7.1f} ms/page (fast pass on every page, "
          f"full pass on {spent['full']} of {n})")
    print(f"classifier share:           {stage['classifier'] / pipeline:7.1%} "
          f"({1000 * stage['classifier'] / n:.1f} ms/page for features + model)")
    rest = pipeline - stage["extraction"] - stage["classifier"]
    print(f"the rest:                   {rest / pipeline:7.1%} "
          f"({1000 * rest / n:.1f} ms/page to make the result: text, related links; the labels "
          "are the classifier's)")
    print(f"model:                      {loaded.version} (sha256 "
          f"{str(loaded.manifest.get('sha256', '?'))[:12]}…)")
    print(f"model file:                 {size_mb:7.2f} MB")
    print(f"model load:                 {load_s:7.3f} s")
    share = extract_module.FALLBACK_BELOW_SHARE
    print("full pass trigger:          the fast pass keeps "
          + (f"under {share:.0%} of the page's text" if share else "nothing"))
    print(f"python {sys.version.split()[0]}, noisefilter {filter_version} at {commit()}, "
          f"trafilatura {trafilatura.__version__}")


if __name__ == "__main__":
    main()
