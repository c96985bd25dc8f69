"""How often a page in windows-1252 that declares no charset is decoded right, beside trafilatura.

    python benchmarks/decoding.py [--every 10]

Legacy pages often declare nothing (or a server header that a stored body lost says it). This
takes WCXB-dev pages (every `--every`-th one that holds non-ASCII text), removes their charset
declarations, re-encodes them in windows-1252 (characters it lacks as character references)
and counts the pages whose decoded text is exactly the page again: with the page's `lang` as
it is, and with the `lang` attribute removed. Compared: noisefilter's decoding
(`filter.decoding.decode`) and trafilatura's (`trafilatura.utils.decode_file`, what
`trafilatura.extract(bytes)` uses). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
from pathlib import Path

from trafilatura.utils import decode_file

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from filter.decoding import decode  # noqa: E402

DATA = REPO.parent / "shared" / "data" / "wcxb-dev" / "html"
_CHARSET = re.compile(r"<meta[^>]*charset[^>]*>|<\?xml[^>]*>", re.IGNORECASE)
_LANG = re.compile(r"(<html\b[^>]*?(?<![\w:-]))lang(\s*=)", re.IGNORECASE)


def _decoders():
    return {"noisefilter": lambda b: decode(b, 1 << 30), "trafilatura": decode_file}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=int, default=10, help="take every N-th page (1: all)")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()

    right = {(v, d): 0 for v in ("lang as is", "lang removed") for d in _decoders()}
    pages = 0
    files = sorted(args.data.glob("*.html.gz"))[:: args.every]
    for path in files:
        text = _CHARSET.sub("", gzip.open(path).read().decode("utf-8", "replace"))
        if text.isascii():
            continue
        pages += 1
        for variant, page in (("lang as is", text), ("lang removed", _LANG.sub(r"\1data-lang\2", text, count=1))):
            data = page.encode("cp1252", "xmlcharrefreplace")
            expected = data.decode("cp1252", "replace")
            for name, dec in _decoders().items():
                try:
                    right[(variant, name)] += dec(data) == expected
                except Exception:  # noqa: BLE001 -- a refusal counts as a wrong decoding
                    pass
    print(f"WCXB-dev pages read: {len(files)} (--every {args.every}); with non-ASCII text, re-encoded in "
          f"windows-1252 without a charset declaration: {pages}")
    print("decoded exactly:")
    print("| page | noisefilter | trafilatura |\n|---|---|---|")
    for variant in ("lang as is", "lang removed"):
        print(f"| {variant} | {right[(variant, 'noisefilter')]}/{pages} | {right[(variant, 'trafilatura')]}/{pages} |")


if __name__ == "__main__":
    main()
