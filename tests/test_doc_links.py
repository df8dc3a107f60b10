"""Every relative link in the project's Markdown (README, docs, reports, model cards) resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
DOCS = sorted(
    [
        REPO / "README.md",
        *(REPO / "docs").glob("*.md"),
        *(REPO / "reports").rglob("*.md"),
        *(REPO / "models").glob("*/README.md"),  # model cards
    ]
)


def relative_targets(markdown: Path) -> list[str]:
    """The link targets of ``markdown`` that are paths inside the repository (no URL, no anchor)."""
    targets = []
    for target in LINK.findall(markdown.read_text(encoding="utf-8")):
        path = target.split("#", 1)[0]
        if path and not re.match(r"^[a-z][a-z0-9+.-]*:", path):
            targets.append(path)
    return targets


def test_the_link_pattern_sees_relative_links_only(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("[a](reports/x.md) ![b](plots/y.png) [c](https://example.org) [d](#top) [e](z.md#part)")
    assert relative_targets(page) == ["reports/x.md", "plots/y.png", "z.md"]


@pytest.mark.parametrize("markdown", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(markdown: Path) -> None:
    missing = [t for t in relative_targets(markdown) if not (markdown.parent / t).exists()]
    assert not missing, f"{markdown.relative_to(REPO)} links to missing {missing}"
