"""Rewrite a generated block of a Markdown file: the lines between

    <!-- make bench: <name> -->
    <!-- end of make bench: <name> -->

The benches (scripts/bench.py, scripts/bench_requests.py) keep their latest figures in the
README this way; everything outside the markers is left as it is.
"""

from __future__ import annotations

from pathlib import Path


def markers(name: str) -> tuple[str, str]:
    return f"<!-- make bench: {name} -->", f"<!-- end of make bench: {name} -->"


def replace_block(path: Path, name: str, body: str) -> bool:
    """Put `body` between the markers of `name` in `path`; False (nothing written) when the
    file has no such pair of markers."""
    start, end = markers(name)
    text = path.read_text()
    head, found, rest = text.partition(start + "\n")
    if not found or end not in rest:
        return False
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{start}\n{body.rstrip()}\n{end}{tail}")
    return True
