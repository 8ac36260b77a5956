"""People sign themselves up, and confirm that the email address is theirs.

- Signing up answers the same whether or not the address has an account, in about the same
  time (the password is hashed either way): a new address gets an account that needs its
  email confirmed and a confirmation email (a token valid 24 hours); an address that has an
  account is left as it is, and its owner is told someone tried (with how to reset the
  password). Nobody learns which addresses have accounts.
- Until the address is confirmed the person may log in and browse, not book or pay
  (`require_confirmed_email`: 403).
- Venues' staff invitations for the address are accepted when it is confirmed, not at sign-up:
  signing up with someone else's address must not make anyone staff.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from booking_core.domain import Principal, PrincipalKind, User
from booking_core.errors import EmailNotConfirmed, InvalidRequest, ServiceBusy, Unauthenticated
from booking_core.observability import logger
from booking_core.store import accounts as account_store
from booking_core.store import credentials, table

if TYPE_CHECKING:
    from booking_core.models.accounts import SignUpRequest

# The emails (account_emails: messages, delivery, Mailgun) and the password rules load in the
# functions that send or check them: booking and paying import this module only for
# `require_confirmed_email`.

SIGN_UP_NOTICE = (
    "Thank you. We have sent an email to this address: use the token in it to confirm the "
    "address (if the address already has an account, the email says what to do instead)."
)
RESEND_NOTICE = (
    "If this address has an account that still needs confirming, we have sent it a new "
    "confirmation email."
)
CONFIRMED_NOTICE = "Your email address is confirmed. You can book now."
INVALID_CONFIRMATION = (
    "This confirmation token is not valid: it may be mistyped, used already or older than 24 hours."
)


def check_new_password(password: str, email: str, *, field: str) -> None:
    """400 in the seed's form (`{field: [...]}`) for a password the rules refuse."""
    from booking_core.rules.passwords import password_problems

    problems = password_problems(password, email)
    if problems:
        raise InvalidRequest({field: problems})


def sign_up(request: SignUpRequest, now: datetime) -> None:
    """A new account needing its email confirmed, or (the address is taken) an email to the
    address's owner; the caller cannot tell which."""
    from booking_core.services import account_emails, accounts

    check_new_password(request.password, request.email, field="password")
    user = User(
        id=str(uuid.uuid4()),
        email=request.email,
        first_name=request.first_name,
        last_name=request.last_name,
        password_hash=accounts.hash_password(request.password),
        needs_email_confirmation=True,
    )
    confirmation = account_emails.token_email_ops(account_emails.CONFIRM_EMAIL, user, now)
    try:
        account_store.create_user(user, also=confirmation)
    except account_store.EmailTaken:
        _tell_owner_of(request.email, now)
        return
    except table.TransactionCancelled as refused:
        raise ServiceBusy(retry_after_seconds=1) from refused
    logger.info("Account signed up; confirmation email queued", extra={"user_id": user.id})


def _tell_owner_of(email: str, now: datetime) -> None:
    from booking_core.services import account_emails

    owner = account_store.find_user_by_email(email)
    if owner is None or not owner.is_active or owner.role == "service":
        return
    try:
        table.transact(
            [
                account_emails.throttle_op(account_emails.SIGN_UP_ATTEMPTED, email, now),
                account_emails.sign_up_attempted_op(owner, now),
            ]
        )
    except table.TransactionCancelled:
        logger.info("Sign-up attempt not told: the owner was told less than a minute ago")


def resend_confirmation(email: str, now: datetime) -> None:
    """A new confirmation email for an account that still needs one; otherwise nothing. At
    most one a minute per address; the caller is told the same either way."""
    from booking_core.services import account_emails

    user = account_store.find_user_by_email(email)
    needs_one = user is not None and user.is_active and user.needs_email_confirmation
    if not account_emails.send_throttled(
        account_emails.CONFIRM_EMAIL, email, user if needs_one else None, now
    ):
        logger.info("Confirmation email not sent: one went out less than a minute ago")


def confirm_email(token: str, now: datetime) -> None:
    """Use a confirmation token up: the account may book from now on, and joins the staff of
    the venues that invited its address. 400 for a token that is unknown, used or too old."""
    from booking_core.services import account_emails

    found = account_emails.redeemable(token, account_emails.CONFIRM_EMAIL, now)
    if found is None:
        raise InvalidRequest({"token": [INVALID_CONFIRMATION]})
    record, hashed = found
    try:
        table.transact(
            [
                credentials.consume_token_op(record, hashed, now),
                credentials.confirm_email_op(record.user_id),
            ]
        )
    except table.TransactionCancelled as refused:
        if refused.failed(0) or refused.failed(1):
            raise InvalidRequest({"token": [INVALID_CONFIRMATION]}) from refused
        raise ServiceBusy(retry_after_seconds=1) from refused
    logger.info("Email confirmed", extra={"user_id": record.user_id})
    email_confirmed(record.user_id, now)


def email_confirmed(user_id: str, now: datetime) -> None:
    """What follows a person proving their address is theirs: they join the staff of the
    venues that invited it."""
    # Loaded here: few requests confirm an address.
    from booking_core.services import staff

    user = account_store.get_user(user_id, consistent=True)
    if user is None:
        return
    try:
        staff.accept_invitations(user, now)
    except ServiceBusy:
        # The address stays confirmed; its invitations stay pending (an owner may invite again).
        logger.error("Staff invitations not accepted: the table is busy")


def require_confirmed_email(principal: Principal) -> None:
    """403 for a person who signed up and has not confirmed their email: they may not book or
    pay yet. Partner apps' users and accounts made by code are confirmed from the start."""
    if principal.kind != PrincipalKind.USER:
        return
    refuse_unconfirmed(principal, account_store.get_user(principal.user_id, consistent=True))


def refuse_unconfirmed(principal: Principal, user: User | None) -> None:
    """`require_confirmed_email`, on the caller's account as the caller read it (strongly
    consistent; None when it has no item). A closed account is refused too: a token trusted
    from a warm container's memory (up to 60 s) may have outlived its account, and booking
    or paying reads the account fresh anyway."""
    if principal.kind != PrincipalKind.USER:
        return
    if user is None:
        return  # no account item: an account made by code (tests, scripts) that never closes
    if not user.is_active:
        raise Unauthenticated("User inactive or deleted.")
    if user.needs_email_confirmation:
        raise EmailNotConfirmed
