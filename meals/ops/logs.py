"""Structured logs: one JSON object per line, each naming the request it was written for.

The request id lives in a context variable set when a request comes in (see `meals.ops.edge`);
a record factory copies it into every log record made while the request is handled, so a
traceback logged deep inside a service still carries it.
"""

from __future__ import annotations

import logging
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec

REQUEST_ID: ContextVar[str | None] = ContextVar("warmmeal_request_id", default=None)
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
_HANDLER_NAME = "warmmeal-json"


def install_request_ids() -> None:
    """Every log record gets the current request's id (once per process)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "warmmeal", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    factory.warmmeal = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """A record as one JSON line: time, level, logger, message, request id, the fields passed
    as `extra`, and the traceback of an exception as one string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return msgspec.json.encode(line, enc_hook=str).decode()


def configure_logging(level: int = logging.INFO) -> None:
    """Send every log (the service's, Litestar's, uvicorn's) as JSON lines to stderr."""
    install_request_ids()
    root = logging.getLogger()
    if any(handler.get_name() == _HANDLER_NAME for handler in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
