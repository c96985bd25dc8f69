"""Small news sites written for the retraining tests: HTML pages and their labelled examples.

Every page is generated from a seed, so the tests need no data files: an article on one topic
(title, byline, paragraphs), share/subscribe furniture, a "related" list on the same topic, a
"most read" list on other topics and, on request, reader comments. trafilatura keeps all of it
(the sections carry no class names that give them away), which is what the classifier must sort.
The generator knows what each block is, so the labels come with the page.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

TOPICS = {
    "harbour": ["harbour", "regatta", "rowing", "boats", "quay", "sailors", "ferry", "tide"],
    "bakery": ["bakery", "bread", "flour", "ovens", "pastry", "baker", "loaves", "yeast"],
    "election": ["council", "election", "ballot", "mayor", "voters", "candidates", "budget", "seats"],
    "football": ["football", "striker", "league", "goal", "stadium", "coach", "season", "penalty"],
    "weather": ["storm", "rainfall", "flooding", "forecast", "winds", "temperatures", "river", "snow"],
    "school": ["school", "pupils", "teachers", "exams", "classroom", "headteacher", "library", "term"],
}
TOWNS = ["Lindham", "Carrow", "Oxley", "Brennet", "Marsh End", "Tolby"]
NAMES = ["Mara Quell", "Tom Rusk", "Ines Varga", "Paul Ostby", "Lena Fray", "Omar Hadi"]
READERS = ["jdoe", "kpark", "river_fan", "m.smith", "oldtimer", "anna_b"]


def _sentence(rng: random.Random, words: list[str], town: str) -> str:
    a, b, c = rng.sample(words, 3)
    forms = [
        f"The {a} in {town} drew attention this week as officials discussed the {b} and the {c}.",
        f"Residents said the {a} had changed since the {b} was announced, and many asked about the {c}.",
        f"According to local figures, the {a} and the {b} will be reviewed before the {c} next month.",
        f"\"We have never seen a {a} like this,\" said one witness, pointing at the {b} near the {c}.",
        f"Experts in {town} warned that the {a} could affect the {b} unless the {c} is addressed soon.",
    ]
    return rng.choice(forms)


def _headline(rng: random.Random, words: list[str], town: str) -> str:
    a, b = rng.sample(words, 2)
    return rng.choice([f"{town} {a} plans face new questions over {b}",
                       f"What the {a} means for the {b} in {town}",
                       f"{town} {b} record broken as {a} returns"])


def make_page(site: int, n: int, comments: bool = False, seed: int = 0) -> tuple[str, str, list[tuple[str, str]]]:
    """One page of site `site`: (url, html, [(block text, label)]) with labels from
    content/related/teaser/junk/comment, in reading order."""
    rng = random.Random(f"{seed}-{site}-{n}")
    topic = rng.choice(sorted(TOPICS))
    words = TOPICS[topic]
    others = [t for t in sorted(TOPICS) if t != topic]
    town = TOWNS[site % len(TOWNS)]
    blocks: list[tuple[str, str, str]] = []  # (tag, text, label)
    blocks.append(("h1", _headline(rng, words, town), "content"))
    blocks.append(("p", f"By {rng.choice(NAMES)}", "content"))
    for _ in range(rng.randint(4, 6)):
        blocks.append(("p", " ".join(_sentence(rng, words, town) for _ in range(rng.randint(2, 3))), "content"))
    furniture = [("p", "Share this article on Facebook", "junk"), ("p", "Sign up for our newsletter", "junk")]
    related = [("h3", rng.choice(["Related stories", "Related coverage", "Read more"]), "related")]
    related += [("a", _headline(rng, words, town), "related") for _ in range(rng.randint(2, 3))]
    teasers = [("h3", rng.choice(["Most read", "Latest news", "Trending now"]), "teaser")]
    teasers += [("a", _headline(rng, TOPICS[rng.choice(others)], rng.choice(TOWNS)), "teaser")
                for _ in range(rng.randint(2, 3))]
    talk = []
    if comments:
        talk = [("h3", f"Reader comments ({rng.randint(2, 9)})", "comment")]
        talk += [("p", f"{rng.choice(READERS)} wrote: {rng.choice(['Great', 'Sad', 'Odd', 'Good'])} news about "
                       f"the {rng.choice(words)}, {rng.choice(['thanks', 'finally', 'about time', 'shame'])}!",
                  "comment") for _ in range(rng.randint(2, 3))]
    tail = [furniture, related, teasers] + ([talk] if talk else [])
    if site % 2:
        tail = [furniture, teasers, related] + ([talk] if talk else [])
    for group in tail:
        blocks.extend(group)
    blocks.append(("p", f"© 2025 {town} Gazette. All rights reserved.", "junk"))
    html = [f"<!doctype html><html><head><title>{blocks[0][1]}</title></head><body>",
            f"<div id='site{site}'><div class='story'>"]
    for k, (tag, text, _) in enumerate(blocks):
        if tag == "a":
            html.append(f"<p><a href='/{topic}/{n}-{k}'>{text}</a></p>")
        else:
            html.append(f"<{tag}>{text}</{tag}>")
    html.append("</div></div></body></html>")
    url = f"https://news{site}.example/{topic}/{n}"
    return url, "\n".join(html), [(text, label) for _, text, label in blocks]


def example(site: int, n: int, comments: bool = False, with_comment_label: bool = False,
            seed: int = 0, as_text: bool = False) -> dict:
    """A labelled example in the JSON Lines format; comments are labelled `comment` only with
    `with_comment_label`, else `junk` (the four shipped labels)."""
    url, html, blocks = make_page(site, n, comments, seed)
    rows = [{"text": t, "label": lab if lab != "comment" or with_comment_label else "junk"}
            for t, lab in blocks]
    out = {"id": f"s{site}-p{n}", "url": url, "blocks": rows, "source": "test"}
    if as_text:
        out["text"] = "\n".join(t for t, _ in blocks)
    else:
        out["html"] = html
    return out


def write_set(path: Path, sites: range, pages: range, **options) -> Path:
    """Write examples for every site × page number to a JSON Lines file."""
    with open(path, "w", encoding="utf-8") as fh:
        for site in sites:
            for n in pages:
                fh.write(json.dumps(example(site, n, **options)) + "\n")
    return path


def write_wcxb(folder: Path, pages: list[tuple]) -> Path:
    """A folder in the WCXB layout (html/NNNN.html.gz, ground-truth/NNNN.json, ids 0001…) of
    generated pages, each (site, page number) or (site, page number, page type; article
    otherwise), its gold text the page's content blocks."""
    (folder / "html").mkdir(parents=True)
    (folder / "ground-truth").mkdir()
    for k, (site, n, *kind) in enumerate(pages, 1):
        url, html, blocks = make_page(site, n)
        (folder / "html" / f"{k:04d}.html.gz").write_bytes(gzip.compress(html.encode()))
        truth = {"url": url, "_internal": {"page_type": {"primary": kind[0] if kind else "article"}},
                 "ground_truth": {"main_content": "\n\n".join(t for t, lab in blocks if lab == "content")}}
        (folder / "ground-truth" / f"{k:04d}.json").write_text(json.dumps(truth))
    return folder


def write_swapped(source: Path, path: Path) -> Path:
    """`source`'s examples with content and junk swapped: what a model taught the opposite of
    the truth is trained on (its proposals disagree with alignment and with the right model)."""
    swap = {"content": "junk", "junk": "content"}
    with open(path, "w") as fh:
        for line in source.read_text().splitlines():
            ex = json.loads(line)
            for b in ex["blocks"]:
                b["label"] = swap.get(b["label"], b["label"])
            fh.write(json.dumps(ex) + "\n")
    return path


def write_demo(folder: str) -> None:
    """The files of the walkthrough in docs/teach-your-site.md: four sites to train on, two to
    hold out, the same with comments labelled `comment`, and one page to clean."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    write_set(out / "pages.jsonl", range(0, 4), range(0, 8), comments=True)
    write_set(out / "holdout.jsonl", range(4, 6), range(0, 4), comments=True)
    write_set(out / "pages-comments.jsonl", range(0, 4), range(0, 8), comments=True, with_comment_label=True)
    write_set(out / "holdout-comments.jsonl", range(4, 6), range(0, 4), comments=True, with_comment_label=True)
    (out / "page.html").write_text(make_page(5, 30, comments=True)[1], encoding="utf-8")
