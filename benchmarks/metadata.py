"""Title, author and date of WCXB-dev pages against their gold metadata, beside trafilatura.

    python benchmarks/metadata.py [--every 1]

noisefilter's fields are `filter.metadata.page_metadata` on the page as the pipeline parses it
(what `CleanResult.title`, `.author` and `.date` hold); trafilatura's are what
`trafilatura.extract(html, url=url, with_metadata=True)` reads (`bare_extraction`'s own call
of `extract_metadata`, with its default options), on the same parsed page in the same run.
Compared after lower-casing and keeping only words: a title is right when its words are the
gold title's, an author when its set of words is the gold author's (without "by", "and"), a
date when its day is the gold date's. Pages whose gold has no author or date count what each
tool gives anyway (a page without a byline has no author to find). The time is the metadata
step alone, per page, parsing excluded. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from filter.decoding import decode  # noqa: E402
from filter.extract import parse  # noqa: E402
from filter.metadata import page_metadata  # noqa: E402
from train.metrics import tokens, word_prf  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "wcxb-dev"


def _same_title(found: str | None, gold: str) -> bool:
    return tokens(found or "") == tokens(gold)


def _same_author(found: str | None, gold: str) -> bool:
    return set(tokens(found or "")) - {"by", "and"} == set(tokens(gold)) - {"by", "and"}


def _same_date(found: str | None, gold: str) -> bool:
    return (found or "")[:10] == gold[:10]


def _noisefilter(tree, url, text):
    meta = page_metadata(tree, url, text)
    return meta["title"], meta["author"], meta["date"]


def _trafilatura(tree, url, text):
    options = Extractor(with_metadata=True, url=url)
    doc = extract_metadata(tree, options.url, options.date_params, options.fast, options.author_blacklist)
    return doc.title, doc.author, doc.date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=1, help="take every N-th page (1: all)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    tools = {"noisefilter": _noisefilter, "trafilatura": _trafilatura}
    fields = (("title", "title", _same_title), ("author", "author", _same_author),
              ("date", "publish_date", _same_date))
    count = {(tool, field, what): 0 for tool in tools for field, _, _ in fields
             for what in ("right", "given", "given without gold")}
    title_f1 = {tool: 0.0 for tool in tools}
    seconds = {tool: 0.0 for tool in tools}
    gold_count = {field: 0 for field, _, _ in fields}
    files = sorted((args.data / "ground-truth").glob("*.json"))[:: args.every]
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        gold, url = record["ground_truth"], record.get("url")
        html = gzip.open(args.data / "html" / f"{path.stem}.html.gz").read()
        text = decode(html, 1 << 30, url)
        for field, key, _ in fields:
            gold_count[field] += bool(gold.get(key))
        for tool, read in tools.items():
            tree = parse(text)  # a fresh tree each: either tool may change the one it reads
            started = time.perf_counter()
            found = dict(zip(("title", "author", "date"), read(tree, url, text)))
            seconds[tool] += time.perf_counter() - started
            for field, key, same in fields:
                if gold.get(key):
                    count[(tool, field, "right")] += same(found[field], gold[key])
                    count[(tool, field, "given")] += bool(found[field])
                else:
                    count[(tool, field, "given without gold")] += bool(found[field])
            if gold.get("title"):
                title_f1[tool] += word_prf(found["title"] or "", gold["title"])[2] or 0.0

    print(f"WCXB-dev pages: {len(files)} (--every {args.every}); with a gold title "
          f"{gold_count['title']}, author {gold_count['author']}, date {gold_count['date']}")
    print("| field | noisefilter right / given | trafilatura right / given | "
          "given where the gold has none (nf / traf) |\n|---|---|---|---|")
    for field, _, _ in fields:
        cells = [f"{count[(tool, field, 'right')]} / {count[(tool, field, 'given')]}" for tool in tools]
        spare = " / ".join(str(count[(tool, field, "given without gold")]) for tool in tools)
        print(f"| {field} (of {gold_count[field]}) | {cells[0]} | {cells[1]} | {spare} |")
    print("title word F1, mean over pages with a gold title: "
          + ", ".join(f"{tool} {title_f1[tool] / max(gold_count['title'], 1):.4f}" for tool in tools))
    print("metadata time per page, parsing excluded: "
          + ", ".join(f"{tool} {1000 * seconds[tool] / len(files):.1f} ms" for tool in tools))


if __name__ == "__main__":
    main()
