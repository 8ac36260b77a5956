"""`python -m api_spec`: write openapi.json at the repository root, and its copy that the API
reference page's function serves (functions/docs/openapi.json: a deployed function cannot read
the repository's). `--check`: only say whether both committed files are up to date, exit 1 if
not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api_spec.document import DOCS_COPY_PATH, OPENAPI_PATH, build_document, render
from local.template import REPO_ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api_spec", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if openapi.json differs from a fresh one"
    )
    arguments = parser.parse_args(argv)
    text = render(build_document())
    paths = (OPENAPI_PATH, DOCS_COPY_PATH)
    if arguments.check:
        stale = [path for path in paths if not path.exists() or path.read_text("utf-8") != text]
        for path in stale:
            print(f"{_shown(path)} is out of date: run `make openapi`", file=sys.stderr)
        if stale:
            return 1
        print(f"{', '.join(_shown(path) for path in paths)}: up to date")
        return 0
    for path in paths:
        path.write_text(text, encoding="utf-8")
        print(f"wrote {_shown(path)}")
    return 0


def _shown(path: Path) -> str:
    return str(path.relative_to(REPO_ROOT))


if __name__ == "__main__":
    sys.exit(main())
