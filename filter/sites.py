"""The site an address is on: its registrable domain by the Public Suffix List, in the form
DNS reads it. Related links keep to the page's own site (`filter.cleaner.related_links`),
cross-validation and the shipped model's holdout group pages by it (`train.wcxb`), and a
title's last part that names it is the site's name, not the headline (`filter.metadata`)."""

from __future__ import annotations

import functools
import re
import unicodedata
from urllib.parse import unquote, urlsplit

import idna
from tld import get_fld


def site_of(url: str | None) -> str | None:
    """The site a URL is on: its registrable domain by the Public Suffix List (`tld`), in its
    ASCII (IDNA) form, so that "news.example.co.uk" and "www.example.co.uk" are one site,
    "bbc.co.uk" another, and "bücher.de" is "xn--bcher-kva.de"; None for a host that has none
    (an IP address, "localhost"), a URL without a host (a relative one) or a malformed one."""
    try:
        host = urlsplit(url).hostname if isinstance(url, str) and url else None
    except ValueError:
        return None
    return _registrable(host) if host else None


def site_or_host(url: str | None) -> str | None:
    """`site_of`, else the URL's host without "www." (an address, a name on an intranet is its
    own site); None for a URL without a readable host. What groups pages by site where every
    page needs a group: cross-validation folds and the shipped model's holdout."""
    site = site_of(url)
    if site:
        return site
    try:
        host = urlsplit(url).hostname if isinstance(url, str) and url else None
    except ValueError:  # "http://[::1"
        return None
    return host.removeprefix("www.") if host else None


@functools.lru_cache(maxsize=4096)
def _registrable(host: str) -> str | None:
    return get_fld(ascii_host(host), fix_protocol=True, fail_silently=True)


#: what a decoded host never holds (WHATWG's forbidden domain code points)
_FORBIDDEN_IN_HOST = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")


def ascii_host(host: str) -> str:
    """A host name as DNS reads it ("bücher.de" is "xn--bcher-kva.de"), as browsers write it
    (WHATWG URL): mapped by UTS #46 without the transitional mapping, then each label that is
    not ASCII in its punycode form. Python's own "idna" codec (IDNA 2003) turns "straße.de"
    into "strasse.de", another site than its "xn--strae-oqa.de"; IDNA 2008's strict rules,
    applied to the whole host, refuse "i❤.ws" and "my_shop.bücher.de", which browsers open."""
    if "%" in host:  # percent-encoded (an href written with encodeURI): browsers decode it first
        try:
            decoded = unquote(host, errors="strict")
        except UnicodeDecodeError:  # no UTF-8 in it: a host no browser opens, kept as written
            return host
        if _FORBIDDEN_IN_HOST.search(decoded):  # "site.ie%20": no browser opens it either
            return host
        host = decoded
    if host.isascii():  # already its DNS form (underscores and all)
        return host
    try:
        mapped = idna.uts46_remap(host, std3_rules=False, transitional=False)
    except (idna.IDNAError, UnicodeError):  # a code point no host holds: kept as written
        return host
    labels = []
    for label in mapped.split("."):
        if label.isascii():
            labels.append(label)
            continue
        try:
            labels.append(idna.alabel(label).decode("ascii"))
        except (idna.IDNAError, UnicodeError):  # a symbol IDNA 2008 disallows: "i❤"
            labels.append("xn--" + label.encode("punycode").decode("ascii"))
    return ".".join(labels)


def site_label(url: str | None) -> str | None:
    """The name a site's address gives it: its registrable domain without the public suffix,
    letters and digits only, lower case ("rustlang" for blog.rust-lang.org, "bbc" for
    www.bbc.co.uk, "bücher" for xn--bcher-kva.de: the name as its titles write it, not
    its punycode); None without a site (`site_of`)."""
    site = site_of(url)
    if site is None:
        return None
    name = site.split(".")[0]
    if name.startswith("xn--"):
        try:
            name = idna.ulabel(name)
        except (idna.IDNAError, UnicodeError):  # `ascii_host`'s own punycode of a symbol
            name = name.removeprefix("xn--").encode("ascii").decode("punycode", "replace")
    return _NOT_ALNUM.sub("", unicodedata.normalize("NFKC", name).casefold()) or None


_NOT_ALNUM = re.compile(r"[\W_]+")
