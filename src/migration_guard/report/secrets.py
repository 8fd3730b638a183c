"""Last-line defence against printing a password.

Everything the renderers receive should already be masked; this runs over every rendered output anyway,
because one unmasked log line (a traceback echoing a DSN, a URL in an error message) is enough to leak.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

MASK = "***"

# scheme://user:password@host. The password runs to the *last* '@' of the token, because real passwords
# contain unencoded '@' and '/' often enough; masking a little too much is the safe side of the trade.
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<password>[^\s]*)@")

# libpq keyword DSNs and env assignments ("password=s3cret", "PGPASSWORD='s3cret'") turn up in
# tracebacks, which echo the source line that opened the connection.
_KEYWORD_PASSWORD = re.compile(
    r"(?P<head>\b\w*password\s*=\s*)(?P<password>'[^']*'|\"[^\"]*\"|[^\s'\",;)&]+)", re.IGNORECASE
)

T = TypeVar("T")


def _variants(secrets: Iterable[str | None]) -> list[str]:
    """Each secret as given and as it appears inside a URL (percent-encoded), longest first.

    Longest first so that a secret containing another one is masked whole, not left half visible.
    """
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found.update({secret, quote(secret, safe=""), quote_plus(secret, safe="")})
    return sorted(found, key=len, reverse=True)


def mask_secrets(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Replace each known secret, and any password in a URL or `password=` assignment, with `***`."""
    for secret in _variants(secrets):
        text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + (MASK if m["password"] else "") + "@", text)
    return _KEYWORD_PASSWORD.sub(lambda m: m["head"] + _keep_quotes(m["password"]), text)


def _keep_quotes(value: str) -> str:
    """`'s3cret'` becomes `'***'`, so the masked line still parses the way the original did."""
    return value[0] + MASK + value[0] if value[0] in "'\"" else MASK


def mask_object(obj: T, secrets: Iterable[str | None] = ()) -> T:
    """A copy of `obj` (dataclasses, dicts, lists, strings) with `mask_secrets` applied to every string.

    Masking the data before it is escaped matters: escaping can split a secret (`|` becomes `\\|` in a
    table cell), and then a pass over the finished text would no longer find it.
    """
    variants = _variants(secrets)
    return _mask(obj, variants)


def _mask(obj: Any, variants: list[str]) -> Any:
    if isinstance(obj, str):
        return mask_secrets(obj, variants)
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _mask(getattr(obj, f.name), variants) for f in dataclasses.fields(obj)}
        return dataclasses.replace(obj, **changes)
    if isinstance(obj, dict):
        return {_mask(k, variants): _mask(v, variants) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_mask(v, variants) for v in obj)
    return obj
