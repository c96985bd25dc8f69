"""noisefilter: remove related-news lists, teasers, prompts and junk from extracted articles.

    from filter import clean
    result = clean(html, url="https://example.org/news/1")
    result.text            # the article, and only the article
    result.related_links   # links to other articles on the same story
"""

__version__ = "0.9.2"

from .errors import (  # noqa: E402
    ExtractionTimeout, InputError, InputTooLarge, ModelError, NoiseFilterError,
)
from .limits import Limits  # noqa: E402
from .result import CleanResult, LabelledBlock, RelatedLink  # noqa: E402

#: what `filter.cleaner` gives, imported at first use: it brings scikit-learn, trafilatura
#: and lxml, seconds of importing that `noisefilter --help` waited for and during which Ctrl-C
#: printed a traceback
_PIPELINE = frozenset({"Cleaner", "clean", "clean_text", "default_cleaner"})


def __getattr__(name: str):
    if name in _PIPELINE:
        from . import cleaner

        return getattr(cleaner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CleanResult", "Cleaner", "ExtractionTimeout", "InputError", "InputTooLarge",
    "LabelledBlock", "Limits", "ModelError", "NoiseFilterError", "RelatedLink", "clean",
    "clean_text", "default_cleaner", "__version__",
]
