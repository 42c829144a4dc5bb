"""Log lines an operator can read: JSON in production, text in development, always scrubbed.

`configure_logging(settings)` puts one handler on the root logger: one JSON object per line
(`COSTBRIDGE_LOG_FORMAT=json`, the production default) or a human-readable line (`text`). Every
line carries what is known of its context (`request_id`, `job_id`, `company_id`, `realm_id`),
held in context variables: the web app binds the request id per request, a worker binds the
job's ids (and the request id that queued it, read from the job's meta) per job.

The handler carries `core.crypto`'s scrubber, so no token or secret reaches it whichever logger
wrote the line.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any
from typing import TextIO

from core.config import Settings
from core.crypto import install_log_scrubber

__all__ = [
    "CONTEXT_FIELDS",
    "ContextFilter",
    "JsonFormatter",
    "bind",
    "configure_logging",
    "context",
    "job_meta",
    "new_request_id",
]

#: Fields a line carries when known, in this order.
CONTEXT_FIELDS = ("request_id", "job_id", "company_id", "realm_id", "run_id")
# The default is an immutable empty mapping: bound values replace it, never mutate it.
_context: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "costbridge_log_context", default=MappingProxyType({})
)
#: An incoming X-Request-Id is kept only when it looks like an id (it ends up in every line).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s%(context)s"


def new_request_id(incoming: str | None = None) -> str:
    """The caller's request id when it is well formed (a proxy's), else a fresh one."""
    if incoming and _REQUEST_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def context() -> dict[str, Any]:
    """The log context bound in this thread or task."""
    return dict(_context.get())


@contextmanager
def bind(**values: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block (None values are left out)."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def set_context(**values: Any) -> contextvars.Token[Mapping[str, Any]]:
    """Bind fields until `reset_context(token)` (for Flask's before/after request pair)."""
    return _context.set({**_context.get(), **{k: v for k, v in values.items() if v is not None}})


def reset_context(token: contextvars.Token[Mapping[str, Any]]) -> None:
    """Undo a `set_context`."""
    _context.reset(token)


def job_meta(meta: Mapping[str, Any] | None) -> dict[str, Any]:
    """A job's meta plus the request id of the request queueing it, so its lines name it."""
    out = dict(meta or {})
    request_id = _context.get().get("request_id")
    if request_id and "request_id" not in out:
        out["request_id"] = request_id
    return out


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record (as attributes named by `CONTEXT_FIELDS`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Never drops a record."""
        bound = _context.get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                setattr(record, name, bound.get(name))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message and the known context."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record`; the scrubber has already rewritten its message."""
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is None:
                value = _context.get().get(name)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """The development line: time, level, logger, message, then `key=value` context."""

    def __init__(self) -> None:
        """Use `TEXT_FORMAT`."""
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` with its context appended."""
        parts = [
            f"{name}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        ]
        record.context = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


_HANDLER_NAME = "costbridge"


def make_handler(fmt: str, stream: TextIO | None = None) -> logging.Handler:
    """A stream handler (stderr by default) with the formatter, context and scrubber."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextFilter())
    install_log_scrubber([handler])
    return handler


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """Make the root logger write costbridge's lines; safe to call again (replaces ours).

    Args:
        settings: `log_format` and `log_level` are read.
        stream: Where lines go (default stderr).

    Returns:
        The installed handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = make_handler(settings.log_format, stream)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Our lines carry their own access log (path without the query string); werkzeug's would
    # repeat each request with the OAuth callback's code in it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    install_log_scrubber()
    return handler
