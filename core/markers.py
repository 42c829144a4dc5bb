"""The marker costbridge writes into every record it sends to QBO, and how to recognise it.

Both sides need it: the push writes it (and looks a record up by it when it cannot tell whether a
send went through, RELIABILITY.md §1), and the pull recognises a record or file that costbridge
itself sent so it is never copied back. It lives here, beside neither, so that `core.push` and
`core.sync` never import each other.
"""

from __future__ import annotations

import re

#: What every marker starts with; an idempotency key (36 hex characters) follows.
MARKER_PREFIX = "cb-"
#: Any costbridge marker inside free text.
MARKER_PATTERN = re.compile(re.escape(MARKER_PREFIX) + "[0-9a-f]{36}")


def marker(key: str) -> str:
    """The text written into the QBO record of the write whose idempotency key is `key`."""
    return f"{MARKER_PREFIX}{key}"


def carries_marker(text: object) -> bool:
    """Whether free text from QBO holds a costbridge marker (so costbridge sent the record)."""
    return bool(MARKER_PATTERN.search(str(text or "")))
