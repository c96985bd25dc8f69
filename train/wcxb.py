"""Reading a data set in the WCXB layout: ``html/NNNN.html.gz`` + ``ground-truth/NNNN.json``."""

from __future__ import annotations

import gzip
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

from filter.sites import site_or_host


@dataclass(frozen=True)
class GoldPage:
    """One page of a gold-text data set.

    `main_content` is None when the ground truth gives no main text at all (no field, or
    null): two WCXB-dev pages (4802, a forum, and 4893, an article) list `with` snippets but
    have none. Such a page is neither trained on nor scored: aligned with an empty text, every
    block of its article would be labelled noise, and word F1 would score a tool that keeps
    nothing 1.0 on one and every tool 0.0 on the other. An empty string is a gold text: the
    data set says the page has no main content (19 WCXB-dev pages)."""

    id: str
    url: str
    page_type: str
    html_path: Path
    main_content: str | None
    with_snippets: tuple[str, ...]
    without_snippets: tuple[str, ...]

    @property
    def site(self) -> str:
        """The registrable domain (`filter.sites.site_or_host`): the 17 substack.com blogs, the
        stackexchange.com forums or docs.docker.com and docker.com are one site each, whose
        shared templates must not be on both sides of a cross-validation split. Pages whose
        URL has no readable host (five WCXB-dev pages have none) form one group, ""."""
        return site_or_host(self.url) or ""

    def html(self) -> bytes:
        """The page's bytes. Raises OSError for a file that cannot be read, a damaged or
        cut-short `.gz` one too (gzip raises EOFError or zlib.error for those, which stopped a
        whole `bootstrap` at one truncated download instead of skipping the page)."""
        try:
            with gzip.open(self.html_path) if self.html_path.suffix == ".gz" else open(self.html_path, "rb") as fh:
                return fh.read()
        except (EOFError, zlib.error) as err:
            raise OSError(f"{self.html_path} is damaged or cut short: {err}") from None


def load_dataset(root: str | Path) -> list[GoldPage]:
    """All pages of a WCXB-layout folder, sorted by id. Raises ValueError for a folder without
    a ground-truth folder, and naming every ground-truth file that cannot be read as one (not JSON, not UTF-8, fields of other types):
    a data set made by hand stopped at its first such file with a bare JSON or attribute error
    that named no file."""
    root = Path(root)
    if not (root / "ground-truth").is_dir():  # a typo in a path trained on nothing
        raise ValueError(f"{root} holds no ground-truth folder: not a data set in the WCXB layout "
                         "(html/NNNN.html.gz and ground-truth/NNNN.json)")
    pages, bad = [], []
    for gt_path in sorted((root / "ground-truth").glob("*.json")):
        try:
            pages.append(_gold_page(root, gt_path))
        except (OSError, ValueError) as err:  # JSONDecodeError and UnicodeDecodeError too
            bad.append(f"{gt_path}: {err}")
    if bad:
        more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
        raise ValueError(f"{len(bad)} ground-truth file(s) cannot be read{more}:\n  "
                         + "\n  ".join(bad[:10]))
    return pages


def _gold_page(root: Path, gt_path: Path) -> GoldPage:
    gt = json.loads(gt_path.read_text(encoding="utf-8"))
    if not isinstance(gt, dict):
        raise ValueError(f"not a JSON object but {type(gt).__name__}")
    truth = _field(gt, "ground_truth", dict) or {}
    internal = gt.get("_internal")  # WCXB's own bookkeeping: read where it has its shape
    kind = internal.get("page_type") if isinstance(internal, dict) else None
    page_type = kind.get("primary") if isinstance(kind, dict) else None
    html_path = root / "html" / f"{gt_path.stem}.html.gz"
    if not html_path.exists():
        html_path = root / "html" / f"{gt_path.stem}.html"
    snippets = {}
    for key in ("with", "without"):
        snippets[key] = tuple(_field(truth, key, list) or ())
        if not all(isinstance(s, str) for s in snippets[key]):
            raise ValueError(f"ground_truth.{key} must be a list of strings")
    return GoldPage(
        id=gt_path.stem,
        url=_field(gt, "url", str) or "",
        page_type=page_type if isinstance(page_type, str) and page_type else "unknown",
        html_path=html_path,
        main_content=_field(truth, "main_content", str),
        with_snippets=snippets["with"],
        without_snippets=snippets["without"],
    )


def _field(obj: dict, key: str, kind: type):
    """`obj[key]` when it is a `kind` (None when missing or null); ValueError otherwise."""
    value = obj.get(key)
    if value is not None and not isinstance(value, kind):
        raise ValueError(f"{key} must be a {'JSON object' if kind is dict else kind.__name__}, "
                         f"not {type(value).__name__}")
    return value
