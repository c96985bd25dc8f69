"""noisefilter: remove related-news lists, teasers, prompts and junk from extracted articles.

    from filter import clean
    result = clean(html, url="https://example.org/news/1")
    result.text            # the article, and only the article
    result.related_links   # links to other articles on the same story
"""

from typing import TYPE_CHECKING

__version__ = "0.9.3"

from .errors import (  # noqa: E402
    ExtractionTimeout, InputError, InputTooLarge, ModelError, NoiseFilterError,
)
from .limits import Limits  # noqa: E402
from .result import CleanResult, LabelledBlock, RelatedLink  # noqa: E402

#: what `filter.cleaner` gives, imported at first use: it brings scikit-learn, trafilatura
#: and lxml, seconds of importing that `noisefilter --help` waited for and during which Ctrl-C
#: printed a traceback
_PIPELINE = frozenset({"Cleaner", "clean", "clean_text", "default_cleaner"})

if TYPE_CHECKING:  # type checkers read the names as they are (`__getattr__` would make them Any)
    from .cleaner import Cleaner, clean, clean_text, default_cleaner  # noqa: F401
else:
    def __getattr__(name: str):
        """The pipeline's names, and submodules (`filter.extract`), which importing the
        pipeline made attributes of the package before it was imported lazily."""
        import importlib
        import importlib.util

        if name in _PIPELINE:
            return getattr(importlib.import_module(".cleaner", __name__), name)
        if (name.isidentifier() and not name.startswith("_")
                and importlib.util.find_spec(f"{__name__}.{name}")):
            return importlib.import_module(f".{name}", __name__)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PIPELINE} - {"TYPE_CHECKING"})


__all__ = [
    "CleanResult", "Cleaner", "ExtractionTimeout", "InputError", "InputTooLarge",
    "LabelledBlock", "Limits", "ModelError", "NoiseFilterError", "RelatedLink", "clean",
    "clean_text", "default_cleaner", "__version__",
]
