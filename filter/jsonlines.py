"""JSON Lines as noisefilter writes them: batch outputs (`filter.batch`) and example files
(`train.examples`, `train.store`). One record a line, UTF-8 as it reads, and no character a
line-splitting reader would cut a record at."""

from __future__ import annotations

import json

#: the line breaks other than "\n" that JSON writes raw in a string and readers split lines
#: at (Python's `str.splitlines`, editors): escaped, they read back the same
_OTHER_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028",
                                    "\u2029": "\\u2029"})


def json_line(record: dict) -> str:
    """One line, UTF-8 as it reads; a record holding a lone surrogate (an id or URL from a
    JSON Lines input that escaped one, as JavaScript strings may) cannot be UTF-8, and is
    written with JSON's ASCII escapes instead, which read back to the same record. A U+2028 in
    an id, a title or a block's text is escaped too: a reader splitting the file with
    `str.splitlines` cut the record in two."""
    line = json.dumps(record, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(record)
    return line.translate(_OTHER_LINE_BREAKS) + "\n"
