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

#: what `filter.cleaner` gives (and `clean_many`'s outcomes), imported at first use: it brings
#: scikit-learn, trafilatura and lxml, seconds of importing that `noisefilter --help` waited
#: for and during which Ctrl-C printed a traceback
_PIPELINE = {"Cleaner": ".cleaner", "clean": ".cleaner", "clean_text": ".cleaner",
             "default_cleaner": ".cleaner", "Outcome": ".batch", "Failure": ".inputs"}

if TYPE_CHECKING:  # type checkers read the names as they are (`__getattr__` would make them Any)
    from .batch import Outcome  # noqa: F401
    from .cleaner import Cleaner, clean, clean_text, default_cleaner  # noqa: F401
    from .inputs import Failure  # noqa: F401
else:
    def __getattr__(name: str):
        """The pipeline's names, and submodules (`filter.extract`), which importing the
        pipeline made attributes of the package before it was imported lazily."""
        import importlib
        import importlib.util

        if name in _PIPELINE:
            return getattr(importlib.import_module(_PIPELINE[name], __name__), name)
        if (name.isidentifier() and not name.startswith("_")
                and importlib.util.find_spec(f"{__name__}.{name}")):
            try:
                return importlib.import_module(f".{name}", __name__)
            except ModuleNotFoundError as err:
                # an optional dependency missing (`filter.warc` without warcio): `hasattr`
                # and `getattr(filter, "warc", None)` answer as for a missing attribute, not
                # with an ImportError; `import filter.warc` still raises that
                if err.name and not err.name.startswith(f"{__name__}."):
                    needs = err.name.split(".")[0]
                    raise AttributeError(f"module {__name__!r} has no attribute {name!r}: "
                                         f"filter.{name} needs {needs}, which is not "
                                         "installed") from err
                raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PIPELINE} - {"TYPE_CHECKING"})


__all__ = [
    "CleanResult", "Cleaner", "ExtractionTimeout", "Failure", "InputError", "InputTooLarge",
    "LabelledBlock", "Limits", "ModelError", "NoiseFilterError", "Outcome", "RelatedLink", "clean",
    "clean_text", "default_cleaner", "__version__",
]
