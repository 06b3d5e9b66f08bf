"""Masking what must not be shown or logged in clear: query-string values, credential values.

The query string of a postback URL (``?token=...``) often carries a credential; wherever a
URL is stored or logged it goes through ``mask_query_strings`` first. Header values are
masked by ``channels.masking`` (it knows which headers are a channel's own).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

MASK = "***"

# "?name=value" or "&name=value" (or ";"), anywhere in a text: a URL, a path, an error message.
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;#\s?'\"]+)=(?P<value>[^&;#\s'\"()<>]*)")


def mask_query_strings(text: str) -> str:
    """``text`` with the value of every query parameter replaced by ``***`` (names kept).

    Works on a URL (``https://h/p?token=abc&x=1`` -> ``https://h/p?token=***&x=***``) and on
    free text that quotes URLs, such as an HTTP client's error message or a log line.
    """
    if not text or ("?" not in text and "&" not in text):
        return text
    return _QUERY_PARAM.sub(lambda m: f"{m['lead']}{m['name']}={MASK if m['value'] else ''}", text)


def mask_values(values: Mapping) -> dict:
    """The same keys, every value masked."""
    return {key: MASK for key in values}


class QueryStringMaskingFilter(logging.Filter):
    """A logging filter that masks query-string values in a record's message and arguments.

    Set on ``urllib3.connectionpool`` in ``LOGGING``: at DEBUG it logs each request's path.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_query_strings(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_query_strings(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: mask_query_strings(v) if isinstance(v, str) else v for k, v in record.args.items()}
        return True
