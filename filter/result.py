"""What cleaning returns: `CleanResult` with its labelled blocks and related links."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RelatedLink:
    """A link the page offers to another article on the same topic (label `related`)."""

    title: str
    url: str


@dataclass(frozen=True)
class LabelledBlock:
    """A block with the model's label and the probability of that label."""

    text: str
    label: str
    score: float
    kind: str = "p"
    #: left out of the hash (a dict has none), so that a block can go in a set or be a dict key,
    #: as a frozen dataclass promises; equality still compares it
    scores: dict[str, float] = field(default_factory=dict, hash=False)
    #: False for a block trafilatura left out that noisefilter's completion stage found in the
    #: article's container (`filter.extract.complete`)
    extracted: bool = True


@dataclass
class CleanResult:
    """The outcome of cleaning one document.

    `text` is the kept blocks (label `keep_label`, `content` unless the model was trained to
    keep another) joined by newlines. `blocks` holds every block in reading order with its
    label, `removed` those that were dropped. `empty_reason` says why `text` is empty when
    nothing could be extracted (an empty page, no article found), so that an empty result is
    never silent.
    """

    text: str
    blocks: list[LabelledBlock]
    title: str | None = None
    author: str | None = None
    date: str | None = None
    language: str | None = None
    url: str | None = None
    related_links: list[RelatedLink] = field(default_factory=list)
    model_version: str = ""
    empty_reason: str | None = None
    keep_label: str = "content"

    @property
    def removed(self) -> list[LabelledBlock]:
        return [b for b in self.blocks if b.label != self.keep_label]

    @property
    def label_counts(self) -> dict[str, int]:
        return dict(Counter(b.label for b in self.blocks))

    def to_dict(self, blocks: bool = True) -> dict:
        """A JSON-ready dict (the shape of the CLI's and the service's output)."""
        out = {
            "text": self.text,
            "title": self.title,
            "author": self.author,
            "date": self.date,
            "language": self.language,
            "url": self.url,
            "related_links": [asdict(link) for link in self.related_links],
            "label_counts": self.label_counts,
            "model_version": self.model_version,
            "empty_reason": self.empty_reason,
        }
        if blocks:
            out["blocks"] = [
                {"text": b.text, "label": b.label, "score": round(b.score, 4), "kind": b.kind,
                 "extracted": b.extracted}
                for b in self.blocks
            ]
        return out
