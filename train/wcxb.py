"""Reading a data set in the WCXB layout: ``html/NNNN.html.gz`` + ``ground-truth/NNNN.json``."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

from filter.cleaner import site_or_host


@dataclass(frozen=True)
class GoldPage:
    """One page of a gold-text data set."""

    id: str
    url: str
    page_type: str
    html_path: Path
    main_content: str
    with_snippets: tuple[str, ...]
    without_snippets: tuple[str, ...]

    @property
    def site(self) -> str:
        """The registrable domain (`filter.cleaner.site_or_host`): the 17 substack.com blogs, the
        stackexchange.com forums or docs.docker.com and docker.com are one site each, whose
        shared templates must not be on both sides of a cross-validation split. Pages whose
        URL has no readable host (five WCXB-dev pages have none) form one group, ""."""
        return site_or_host(self.url) or ""

    def html(self) -> bytes:
        with gzip.open(self.html_path) if self.html_path.suffix == ".gz" else open(self.html_path, "rb") as fh:
            return fh.read()


def load_dataset(root: str | Path) -> list[GoldPage]:
    """All pages of a WCXB-layout folder, sorted by id."""
    root = Path(root)
    pages = []
    for gt_path in sorted((root / "ground-truth").glob("*.json")):
        gt = json.loads(gt_path.read_text(encoding="utf-8"))
        html_path = root / "html" / f"{gt_path.stem}.html.gz"
        if not html_path.exists():
            html_path = root / "html" / f"{gt_path.stem}.html"
        truth = gt.get("ground_truth") or {}
        pages.append(GoldPage(
            id=gt_path.stem,
            url=gt.get("url") or "",
            page_type=((gt.get("_internal") or {}).get("page_type") or {}).get("primary") or "unknown",
            html_path=html_path,
            main_content=truth.get("main_content") or "",
            with_snippets=tuple(truth.get("with") or ()),
            without_snippets=tuple(truth.get("without") or ()),
        ))
    return pages
