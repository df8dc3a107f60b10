"""A structural pre-scan of a JSON body: how many strings, containers and values it holds, found
without building anything, so a parser is only handed bodies whose structure is bounded.

Parsing JSON costs memory and time by its structure, not its size: 900 KB of ``{},{},...``
is 300,000 objects, and pydantic's parser builds all of them (holding the interpreter) before
a schema can say that 16 were allowed. The scan reads the bytes once with ``bytes.count`` and
``bytes.find`` (no copy, no per-byte Python loop): strings are skipped (a string never holds
structure), and outside them every ``{`` or ``[`` opens a container and every ``,`` separates
two values. The counts are exact for valid JSON and an upper bound otherwise; the parser that
follows still refuses whatever is not valid JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

QUOTE = b'"'
BACKSLASH = 0x5C


class ScanLimitError(ValueError):
    """The body holds more of something than the limits allow; the message names it and the limit.

    ``what`` is the limit's field in :class:`ScanLimits` (``"max_strings"``, ...).
    """

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what = what


@dataclass(frozen=True, kw_only=True)
class ScanLimits:
    """Most of each thing a body may hold.

    Attributes:
        max_strings: strings (object keys included).
        max_string_bytes: bytes in one string, escapes included.
        max_containers: arrays and objects, all depths together (so also the deepest nesting).
        max_values: values in all arrays and objects together (separating commas + 1).
    """

    max_strings: int
    max_string_bytes: int
    max_containers: int
    max_values: int


@dataclass(frozen=True)
class Structure:
    strings: int
    containers: int
    values: int


def _escaped(body: bytes, opened: int, at: int) -> bool:
    """Whether the quote at ``at`` is escaped: an odd run of backslashes before it (in its string)."""
    run = body[opened + 1 : at]
    return (len(run) - len(run.rstrip(b"\\"))) % 2 == 1


def scan(body: bytes, limits: ScanLimits) -> Structure:
    """Count the strings, containers and values of ``body`` within ``limits``.

    Raises:
        ScanLimitError: a limit is exceeded (the first one met), naming it.
    """
    quotes = body.count(QUOTE)
    if quotes > 2 * limits.max_strings:
        raise ScanLimitError(
            "max_strings", f"a request holds at most {limits.max_strings} strings; got about {quotes // 2}"
        )
    containers = values = strings = 0
    outside = 0  # start of the stretch outside strings now being read
    at = body.find(QUOTE)
    while True:
        end = len(body) if at < 0 else at
        containers += body.count(b"{", outside, end) + body.count(b"[", outside, end)
        values += body.count(b",", outside, end)
        if at < 0:
            break
        opened = at
        at = body.find(QUOTE, opened + 1)
        while at >= 0 and at - opened <= limits.max_string_bytes and _escaped(body, opened, at):
            at = body.find(QUOTE, at + 1)
        if at < 0:
            break  # an unterminated string: not JSON, which the parser will say
        if at - opened - 1 > limits.max_string_bytes:
            raise ScanLimitError(
                "max_string_bytes", f"a string in a request holds at most {limits.max_string_bytes} bytes"
            )
        strings += 1
        outside = at + 1
        at = body.find(QUOTE, outside)
    if containers > limits.max_containers:
        raise ScanLimitError(
            "max_containers",
            f"a request holds at most {limits.max_containers} arrays and objects; got {containers}",
        )
    if values + 1 > limits.max_values:
        raise ScanLimitError(
            "max_values", f"a request holds at most {limits.max_values} values; got {values + 1}"
        )
    return Structure(strings, containers, values + 1)
