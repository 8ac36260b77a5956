"""The benches' generated blocks: only the text between a block's markers changes."""

from __future__ import annotations

from pathlib import Path

from scripts.doc_blocks import markers, replace_block


def test_a_block_is_replaced_between_its_markers_and_nothing_else_changes(tmp_path: Path):
    # Given a file with two blocks and text around them
    start, end = markers("cost")
    other_start, other_end = markers("latency")
    page = tmp_path / "README.md"
    page.write_text(
        f"# Title\n\n{start}\nold figures\n{end}\n\nbetween\n\n"
        f"{other_start}\nkept\n{other_end}\n\nafter\n"
    )
    # When one block is rewritten
    written = replace_block(page, "cost", "| a | b |\n| --- | --- |\n| 1 | 2 |\n")
    # Then only its lines changed
    assert written
    assert page.read_text() == (
        f"# Title\n\n{start}\n| a | b |\n| --- | --- |\n| 1 | 2 |\n{end}\n\nbetween\n\n"
        f"{other_start}\nkept\n{other_end}\n\nafter\n"
    )


def test_a_file_without_the_markers_is_left_alone(tmp_path: Path):
    # Given a file that has only the start marker of a block
    page = tmp_path / "README.md"
    text = f"# Title\n{markers('cost')[0]}\nno end\n"
    page.write_text(text)
    # When the block is rewritten, then nothing is written
    assert not replace_block(page, "cost", "new")
    assert page.read_text() == text
