"""The README and docs/ link only to what exists: every relative Markdown link names a file or
folder of the repository, and every #anchor a heading of the page it points at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([REPO_ROOT / "README.md", *(REPO_ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE_SPAN = re.compile(r"`[^`]*`")
HEADING = re.compile(r"(#{1,6})\s+(.*?)\s*#*\s*$")


def prose_lines(text: str, *, blank_code: bool = True) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans blanked out (or kept)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(CODE_SPAN.sub("``", line) if blank_code else line)
    return lines


def anchors(page: Path) -> set[str]:
    """The anchors GitHub makes for the page's headings."""
    made: set[str] = set()
    for line in prose_lines(page.read_text(encoding="utf-8"), blank_code=False):
        match = HEADING.fullmatch(line)
        if match is None:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", match.group(2)).lower()
        slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
        anchor, n = slug, 0
        while anchor in made:
            n += 1
            anchor = f"{slug}-{n}"
        made.add(anchor)
    return made


def relative_links(page: Path) -> list[str]:
    targets = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        targets += [t for t in LINK.findall(line) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]
    return targets


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_names_an_existing_file_and_heading(page: Path) -> None:
    # Given a page of the documentation, and its relative links
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        # When the link is followed from the page's folder
        aimed_at = (page.parent / path).resolve() if path else page
        # Then it names something in the repository, and a heading there if it names one
        if not aimed_at.exists() or not aimed_at.is_relative_to(REPO_ROOT):
            broken.append(f"{target}: no such file")
        elif anchor and aimed_at.suffix == ".md" and anchor not in anchors(aimed_at):
            broken.append(f"{target}: no such heading")
    assert not broken, broken


def test_every_page_of_the_docs_starts_with_its_title() -> None:
    # Given every page under docs/
    pages = [page for page in PAGES if page.parent != REPO_ROOT]
    # Then each one opens with a level-one heading
    untitled = [
        str(page.relative_to(REPO_ROOT))
        for page in pages
        if not page.read_text(encoding="utf-8").startswith("# ")
    ]
    assert pages
    assert not untitled, untitled
