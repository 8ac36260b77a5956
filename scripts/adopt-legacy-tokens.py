"""Adopt every API token stored before tokens had ids: run once at deploy.

Such a token (`TOKEN#<hash>` with kind, user_id and client_id only) is in no owner's list,
so "log out everywhere", a password reset or an account's deletion would miss it until its
next use. This gives each one its id, dates and reference (`booking_core.store.tokens.backfill`);
it is safe to run again, and while the API serves requests.

    TABLE_NAME=<table> AWS_REGION=<region> .venv/bin/python scripts/adopt-legacy-tokens.py

(with TOKEN_IDLE_DAYS=<days> if the stack sets TokenIdleDays: it dates each token's expiry).
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "layers" / "common")]

from booking_core import clock  # noqa: E402
from booking_core.services.tokens import idle_limit  # noqa: E402
from booking_core.store import tokens  # noqa: E402


def main() -> int:
    adopted = tokens.backfill(clock.now(), idle=idle_limit())
    print(f"{adopted} legacy token(s) adopted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
