"""`python -m api_spec`: write openapi.json at the repository root (`--check`: only say whether
the committed file is up to date, exit 1 if not)."""

from __future__ import annotations

import argparse
import sys

from api_spec.document import OPENAPI_PATH, build_document, render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api_spec", description=__doc__)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if openapi.json differs from a fresh one"
    )
    arguments = parser.parse_args(argv)
    text = render(build_document())
    if arguments.check:
        current = OPENAPI_PATH.read_text(encoding="utf-8") if OPENAPI_PATH.exists() else ""
        if current != text:
            print(f"{OPENAPI_PATH.name} is out of date: run `make openapi`", file=sys.stderr)
            return 1
        print(f"{OPENAPI_PATH.name} is up to date")
        return 0
    OPENAPI_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {OPENAPI_PATH.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
