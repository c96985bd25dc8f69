"""noisefilter: remove related-news lists, teasers, prompts and junk from extracted articles.

    from filter import clean
    result = clean(html, url="https://example.org/news/1")
    result.text            # the article, and only the article
    result.related_links   # links to other articles on the same story
"""

__version__ = "0.9.2"

from .cleaner import Cleaner, Limits, clean, clean_text, default_cleaner  # noqa: E402
from .errors import (  # noqa: E402
    ExtractionTimeout, InputError, InputTooLarge, ModelError, NoiseFilterError,
)
from .result import CleanResult, LabelledBlock, RelatedLink  # noqa: E402

__all__ = [
    "CleanResult", "Cleaner", "ExtractionTimeout", "InputError", "InputTooLarge",
    "LabelledBlock", "Limits", "ModelError", "NoiseFilterError", "RelatedLink", "clean",
    "clean_text", "default_cleaner", "__version__",
]
