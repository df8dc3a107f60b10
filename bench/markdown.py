"""Markdown pieces of the benchmark reports: tables, and figures in milliseconds and megabytes."""

from __future__ import annotations

from bench.stats import fmt

MB = 1e6  # bytes per megabyte, as the reports give memory and file sizes


def ms(seconds: float) -> str:
    """``seconds`` as whole milliseconds (``n/a`` for NaN)."""
    return fmt(seconds * 1000, 0)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table (header, separator, one line per row) and the blank line after it."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]
