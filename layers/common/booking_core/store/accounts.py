"""Users and their API tokens.

Keys:
  USER#<uuid> / USER
  EMAIL#<lower-case email> / EMAIL     -> user_id (keeps emails unique)
  TOKEN#<sha256 of token> / TOKEN      -> kind, user_id (tokens are stored hashed only)
"""

from __future__ import annotations

import dataclasses
from typing import Any

from botocore.exceptions import ClientError

from booking_core.domain import User
from booking_core.store import table


class EmailTaken(Exception):
    pass


def create_user(user: User) -> None:
    """Store a user; the email guard item and the user are written in one transaction."""
    user_item = dataclasses.asdict(user)
    user_item.update(pk=f"USER#{user.id}", sk="USER", entity="user")
    try:
        table.client().transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": table.table_name(),
                        "Item": table.to_dynamo(
                            {
                                "pk": f"EMAIL#{user.email.lower()}",
                                "sk": "EMAIL",
                                "user_id": user.id,
                            }
                        ),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Put": {
                        "TableName": table.table_name(),
                        "Item": table.to_dynamo(user_item),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "TransactionCanceledException":
            raise EmailTaken(user.email) from error
        raise


def get_user(user_id: str) -> User | None:
    item = table.get_item(f"USER#{user_id}", "USER")
    return _user_from_item(item) if item else None


def find_user_by_email(email: str) -> User | None:
    guard = table.get_item(f"EMAIL#{email.lower()}", "EMAIL")
    return get_user(guard["user_id"]) if guard else None


def save_token(token_hash: str, *, kind: str, user_id: str) -> None:
    table.put_item(
        {
            "pk": f"TOKEN#{token_hash}",
            "sk": "TOKEN",
            "token_hash": token_hash,
            "kind": kind,
            "user_id": user_id,
        },
        condition="attribute_not_exists(pk)",
    )


def find_token(token_hash: str) -> dict[str, Any] | None:
    return table.get_item(f"TOKEN#{token_hash}", "TOKEN")


def _user_from_item(item: dict[str, Any]) -> User:
    fields = {f.name for f in dataclasses.fields(User)}
    return User(**{k: v for k, v in item.items() if k in fields})
