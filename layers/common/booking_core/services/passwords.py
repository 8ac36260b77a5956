"""Forgotten and changed passwords.

- Asking for a reset answers the same for every address. An active account's address gets a
  token valid one hour, at most one email a minute per address.
- The token sets a new password once. It signs the person out everywhere (every token of the
  account is revoked) and confirms the address if it was not (the person has just shown the
  address is theirs).
- Changing the password needs the current one, checked like a login (a wrong one counts
  towards the lockout of `services.login`); it signs out every other token of the account.
"""

from __future__ import annotations

from datetime import datetime

from booking_core.domain import Principal
from booking_core.errors import InvalidRequest, PermissionDenied, ServiceBusy, Unauthenticated
from booking_core.models.accounts import PasswordChange, PasswordResetConfirmation
from booking_core.observability import logger
from booking_core.services import account_emails, accounts, login, signup, tokens
from booking_core.store import accounts as account_store
from booking_core.store import credentials, table

RESET_NOTICE = (
    "If this address has an account, we have sent it an email with a token to reset the "
    "password. The token is valid for one hour."
)
RESET_DONE_NOTICE = "Your password has been changed. Every session has been signed out."
CHANGED_NOTICE = "Your password has been changed. Your other sessions have been signed out."
INVALID_RESET = (
    "This password reset token is not valid: it may be mistyped, used already or older than "
    "one hour."
)
WRONG_CURRENT_PASSWORD = "Your current password is not correct."  # noqa: S105 - a sentence


def request_reset(email: str, now: datetime) -> None:
    """A reset email for the active account with this address, if any, and if none went to it
    in the last minute; nothing otherwise. The caller is told the same either way."""
    user = account_store.find_user_by_email(email)
    resettable = user is not None and user.is_active and user.role != "service"
    if not account_emails.send_throttled(
        account_emails.PASSWORD_RESET, email, user if resettable else None, now
    ):
        logger.info("Reset email not sent: one went to this address less than a minute ago")


def reset_password(request: PasswordResetConfirmation, now: datetime) -> None:
    """Set the new password with a reset token (once), sign out everywhere, confirm the email."""
    found = account_emails.redeemable(request.token, account_emails.PASSWORD_RESET, now)
    if found is None:
        raise InvalidRequest({"token": [INVALID_RESET]})
    record, hashed = found
    user = account_store.get_user(record.user_id, consistent=True)
    if user is None or not user.is_active:
        raise InvalidRequest({"token": [INVALID_RESET]})
    # A refused password leaves the token usable for a better one.
    signup.check_new_password(request.new_password, user.email, field="new_password")
    try:
        table.transact(
            [
                credentials.consume_token_op(record, hashed, now),
                credentials.set_password_op(
                    user.id, accounts.hash_password(request.new_password), confirm_email=True
                ),
            ]
        )
    except table.TransactionCancelled as refused:
        if refused.failed(0) or refused.failed(1):
            raise InvalidRequest({"token": [INVALID_RESET]}) from refused
        raise ServiceBusy(retry_after_seconds=1) from refused
    revoked = tokens.revoke_all(user.id)
    logger.info("Password reset", extra={"user_id": user.id, "tokens_revoked": revoked})
    if user.needs_email_confirmation:
        signup.email_confirmed(user.id, now)


def change_password(
    principal: Principal, request: PasswordChange, source_ip: str | None, now: datetime
) -> None:
    """The caller's new password, given the current one; their other tokens are revoked.

    A person's own token only (a partner app's is 403). 400 for a wrong current password,
    which counts as a failed login; 429 while logins for the account are locked.
    """
    if principal.is_client:
        raise PermissionDenied
    user = account_store.get_user(principal.user_id, consistent=True)
    if user is None or not user.is_active:
        raise Unauthenticated("User inactive or deleted.")
    signup.check_new_password(request.new_password, user.email, field="new_password")
    if not login.password_is_right(user, request.current_password, source_ip):
        raise InvalidRequest({"current_password": [WRONG_CURRENT_PASSWORD]})
    table.transact(
        [
            credentials.set_password_op(
                user.id, accounts.hash_password(request.new_password), confirm_email=False
            )
        ]
    )
    revoked = tokens.revoke_all(user.id, keep_token_id=principal.token_id)
    logger.info("Password changed", extra={"user_id": user.id, "tokens_revoked": revoked})
