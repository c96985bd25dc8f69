"""Exceptions raised by noisefilter.

Every failure a caller can provoke with its input is a subclass of `NoiseFilterError`, so a
crawler can catch one type, log it and go on with the next page. The message always says what
was wrong with the input and, where there is one, which limit was hit.
"""


class NoiseFilterError(Exception):
    """Base class for every error noisefilter raises on purpose."""


class InputError(NoiseFilterError, ValueError):
    """The input cannot be cleaned: wrong type, binary data, not HTML, unparseable (or nested too
    deep for the parser to read to its end), corrupt gzip, a page URL that is not a URL."""


class InputTooLarge(InputError):
    """The input exceeds the configured size limit (`Limits.max_bytes`), or holds more
    elements (text: lines) than a page is cleaned with (`filter.extract.MAX_ELEMENTS`)."""


class ExtractionTimeout(NoiseFilterError, TimeoutError):
    """Cleaning one document took longer than the configured time limit."""


class ModelError(NoiseFilterError):
    """A model file is missing, untrusted, corrupt or does not match its manifest."""
