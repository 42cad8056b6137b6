"""Log lines carry no health data, even when something fails.

Log messages themselves name records by their public UUID only. What they cannot control is
the text of an exception: a parse error may quote the product name it choked on, a database
error the value it refused. So every log line written by the app's handler (``settings.LOGGING``)
goes through :class:`WithholdExceptionMessages`: a traceback keeps the exception's type and
where it was raised (file, line, function, source line), and the message is withheld; an
exception passed as a log argument is logged as its type. The web server's access log leaves
out query strings and referrers (``gunicorn_conf.access_log_format``), which may hold search
terms.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

WITHHELD = "(message withheld: it may hold health data)"


def _name(kind: type[BaseException]) -> str:
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"


def withheld(value: object) -> object:
    """An exception as its type, anything else as it is."""
    return f"{_name(type(value))} {WITHHELD}" if isinstance(value, BaseException) else value


def redacted_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and of the exceptions it was raised from, without messages."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        cause = current.__cause__
        current = (
            cause if cause is not None or current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nand then, while handling it or because of it:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(item.__traceback__))
        parts.append(f"{_name(type(item))}: {WITHHELD}\n")
    return "".join(parts).rstrip("\n")


class WithholdExceptionMessages(logging.Filter):
    """Replace exception messages in a record by their type (see the module's docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
        if isinstance(record.msg, BaseException):
            record.msg = str(withheld(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(withheld(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            args: dict[str, Any] = record.args  # type: ignore[assignment]
            record.args = {key: withheld(value) for key, value in args.items()}
        return True
