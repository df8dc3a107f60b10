"""The structural pre-scan of JSON bodies: exact counts outside strings, and each limit."""

from __future__ import annotations

import json

import pytest

from service.json_scan import ScanLimitError, ScanLimits, Structure, scan

LIMITS = ScanLimits(max_strings=8, max_string_bytes=32, max_containers=6, max_values=20)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2, 3], "b": {"c": null}}', Structure(strings=3, containers=3, values=4)),
        ('{"s": "[{,,,}]"}', Structure(strings=2, containers=1, values=1)),  # structure in a string
        ('{"s": "a\\"[,b"}', Structure(strings=2, containers=1, values=1)),  # an escaped quote
        ('{"s": "a\\\\", "t": [1,2]}', Structure(strings=3, containers=2, values=3)),  # escaped \
        ("[]", Structure(strings=0, containers=1, values=1)),
    ],
)
def test_counts_are_exact_outside_strings(text: str, expected: Structure) -> None:
    json.loads(text)  # each case is valid JSON
    assert scan(text.encode(), LIMITS) == expected


@pytest.mark.parametrize(
    ("body", "what", "message"),
    [
        (b'["a","b","c","d","e","f","g","h","i"]', "max_strings", "at most 8 strings; got about 9"),
        (b'["' + b"x" * 33 + b'"]', "max_string_bytes", "holds at most 32 bytes"),
        (b'["' + b'\\"' * 5 + b"x" * 30 + b'"]', "max_string_bytes", "holds at most 32 bytes"),
        (b"[" * 7 + b"]" * 7, "max_containers", "at most 6 arrays and objects; got 7"),
        (b"[{},{},{},{},{},{}]", "max_containers", "got 7"),
        (b"[" + b",".join([b"0"] * 21) + b"]", "max_values", "at most 20 values; got 21"),
    ],
)
def test_each_limit_is_refused_naming_it(body: bytes, what: str, message: str) -> None:
    with pytest.raises(ScanLimitError, match=message.replace("[", r"\[")) as raised:
        scan(body, LIMITS)
    assert raised.value.what == what


def test_an_unterminated_string_ends_the_scan_without_error() -> None:
    assert scan(b'[1, "' + b"x" * 1000, LIMITS) == Structure(strings=0, containers=1, values=2)
