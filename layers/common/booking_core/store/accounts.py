"""Users and their API tokens.

Keys:
  USER#<uuid> / USER
  EMAIL#<lower-case email> / EMAIL     -> user_id (keeps emails unique)
API tokens (stored hashed only) are in `store.tokens`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from booking_core.domain import User
from booking_core.store import table


class EmailTaken(Exception):
    pass


def create_user(user: User, *, also: list[dict[str, Any]] | None = None) -> None:
    """Store a user; the email guard item, the user and `also` are written in one transaction.

    Raises EmailTaken when the email is in use, or TransactionCancelled when one of `also`
    was refused (the caller reads `codes` from index 2 on).
    """
    user_item = dataclasses.asdict(user)
    user_item.update(pk=f"USER#{user.id}", sk="USER", entity="user")
    guard = {"pk": f"EMAIL#{user.email.lower()}", "sk": "EMAIL", "user_id": user.id}
    try:
        table.transact(
            [
                table.put_op(guard, condition="attribute_not_exists(pk)"),
                table.put_op(user_item, condition="attribute_not_exists(pk)"),
                *(also or []),
            ]
        )
    except table.TransactionCancelled as refused:
        if refused.failed(0) or refused.failed(1):
            raise EmailTaken(user.email) from refused
        raise


def get_user(user_id: str, *, consistent: bool = False) -> User | None:
    item = table.get_item(f"USER#{user_id}", "USER", consistent=consistent)
    return _user_from_item(item) if item else None


def find_user_by_email(email: str) -> User | None:
    # Strongly consistent: a registration that lost a race must see the winner's user.
    guard = table.get_item(f"EMAIL#{email.lower()}", "EMAIL", consistent=True)
    return get_user(guard["user_id"], consistent=True) if guard else None


def user_key(user_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", "USER"


def user_from_item(item: dict[str, Any]) -> User:
    """A user as stored (their item, read by another module's batch read)."""
    return _user_from_item(item)


def _user_from_item(item: dict[str, Any]) -> User:
    fields = {f.name for f in dataclasses.fields(User)}
    return User(**{k: v for k, v in item.items() if k in fields})
