"""Carrying out the outbox's tasks: emails and refunds, each once, retried until done."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from booking_core.domain import Booking, User, Venue
from booking_core.errors import PaymentProviderUnavailable, ServiceBusy
from booking_core.money import from_minor_units
from booking_core.notifications import delivery, messages
from booking_core.notifications.mailgun import DeliveryFailed
from booking_core.observability import count, logger
from booking_core.services import account_emails
from booking_core.store import accounts, catalogue, table, tasks
from booking_core.store import bookings as booking_store
from booking_core.store.tasks import Task

Composer = Callable[[Booking, Venue, User], messages.Email]

EMAILS: dict[str, Composer] = {
    "email.booking_confirmation": messages.booking_confirmation,
    "email.operator_notification": messages.operator_notification,
    "email.cancellation": messages.cancellation_notice,
}

# A task whose payload carries the whole email, `{"email": Email.to_dict()}`.
COMPOSED_EMAIL = tasks.COMPOSED_EMAIL
# Finishing an account's deletion (`services.privacy`): `{"user_id": ...}`.
ACCOUNT_ERASURE = "account.erase"


@dataclass
class Outcome:
    done: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    given_up: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not due, or another worker has it


def process(task_ids: Iterable[str], now: datetime) -> Outcome:
    """Claim and carry out each task; a failure is scheduled for a retry, never raised."""
    outcome = Outcome()
    for task_id in task_ids:
        try:
            task = tasks.claim(task_id, now)
        except ServiceBusy:
            # Untouched: still due, so the next scheduled run takes it up.
            logger.warning("Task not claimed: the table is busy", extra={"task_id": task_id})
            outcome.skipped.append(task_id)
            continue
        if task is None:
            outcome.skipped.append(task_id)
            continue
        try:
            _carry_out(task, now)
        except (DeliveryFailed, PaymentProviderUnavailable) as error:
            retryable = getattr(error, "retryable", True)
            _retry(task, now, f"{type(error).__name__}: {error}", retryable, outcome)
        except Exception as error:
            logger.exception("Task failed", extra={"task_id": task.id, "kind": task.kind})
            _retry(task, now, f"{type(error).__name__}: {error}", True, outcome)
        else:
            _complete(task, now)
            outcome.done.append(task.id)
    return outcome


def _complete(task: Task, now: datetime) -> None:
    try:
        tasks.complete(task, now)
    except ServiceBusy:
        # Done, but still claimed: once the claim runs out it is done again (the one window in
        # which an email can go out twice, as docs/not-built-yet.md says). The other tasks go on.
        logger.error("Task done but not marked done", extra={"task_id": task.id, "kind": task.kind})


def process_due(now: datetime) -> Outcome:
    """The tasks whose retry is due (and any a crashed worker left behind)."""
    return process(tasks.due_task_ids(now), now)


def _retry(task: Task, now: datetime, error: str, retryable: bool, outcome: Outcome) -> None:
    try:
        due = tasks.retry_later(task, now, error, retryable=retryable)
    except ServiceBusy:
        # Still claimed: once the claim runs out, a scheduled run takes it up again.
        logger.warning("Task failed and not rescheduled yet", extra={"task_id": task.id})
        outcome.retrying.append(task.id)
        return
    count("TaskFailed")
    if due is None:
        logger.error("Task given up", extra={"task_id": task.id, "kind": task.kind, "error": error})
        outcome.given_up.append(task.id)
    else:
        logger.warning(
            "Task will be retried",
            extra={"task_id": task.id, "kind": task.kind, "retry_at": due.isoformat()},
        )
        outcome.retrying.append(task.id)


def _carry_out(task: Task, now: datetime) -> None:
    if task.kind in EMAILS:
        _send_email(task, EMAILS[task.kind])
    elif task.kind == "email.payment_refunded":
        _send_refund_notice(task)
    elif task.kind == COMPOSED_EMAIL:
        _send_composed_email(task)
    elif task.kind in account_emails.TASK_KINDS:
        # Composed now, so that the token they carry is made here and stored only hashed.
        account_emails.send(task, now)
    elif task.kind == "stripe.refund":
        _refund(task, now)
    elif task.kind == "stripe.cancel_intent":
        _cancel_intent(task)
    elif task.kind == ACCOUNT_ERASURE:
        # Loaded here: only an account's deletion needs it.
        from booking_core.services import privacy

        privacy.continue_erasure(str(task.payload["user_id"]), now)
    else:
        raise ValueError(f"unknown task kind {task.kind}")


def _send_composed_email(task: Task) -> None:
    """An email composed when the change was made (a staff invitation: no booking to read)."""
    delivery.send(messages.Email.from_dict(task.payload["email"]), task.id)
    count("EmailSent")


def _parties(booking_id: str) -> tuple[Booking, Venue, User]:
    booking = booking_store.get_booking(booking_id)
    if booking is None:
        raise LookupError(f"booking {booking_id} not found")
    venue = catalogue.get_venue(booking.venue_id)
    # A walk-in's customer has no account: the emails go to the address staff took.
    user = booking.walk_in_customer() if booking.is_walk_in else accounts.get_user(booking.user_id)
    if venue is None or user is None:
        raise LookupError(f"venue or user of booking {booking_id} not found")
    return booking, venue, user


def _account_closed(booking: Booking, user: User) -> bool:
    """The person deleted their account (or is deleting it): they are emailed no more. (A
    walk-in customer has no account: theirs always reads inactive.)"""
    return not booking.is_walk_in and not user.is_active


def _send_email(task: Task, compose: Composer) -> None:
    booking, venue, user = _parties(task.booking_id)
    if task.kind == "email.operator_notification" and not venue.email:
        logger.info("Venue has no email address", extra={"task_id": task.id})
        return
    if booking.is_walk_in and task.kind != "email.operator_notification" and not user.email:
        logger.info("Walk-in customer gave no email address", extra={"task_id": task.id})
        return
    if task.kind != "email.operator_notification" and _account_closed(booking, user):
        logger.info("Account closed: no email to the person", extra={"task_id": task.id})
        return
    delivery.send(compose(booking, venue, user), task.id)
    count("EmailSent")


def _send_refund_notice(task: Task) -> None:
    booking, venue, user = _parties(task.booking_id)
    if _account_closed(booking, user):
        logger.info("Account closed: no email to the person", extra={"task_id": task.id})
        return
    currency = str(task.payload["currency"])
    amount = from_minor_units(int(task.payload["amount"]), currency)
    email = messages.payment_refunded_notice(
        booking, venue, user, Decimal(amount), currency.upper(), str(task.payload["reason"])
    )
    delivery.send(email, task.id)
    count("EmailSent")


def _refund(task: Task, now: datetime) -> None:
    # Loaded here: only a refund needs the Stripe SDK.
    from booking_core.payments import stripe_gateway
    from booking_core.services.payments import record_refund_best_effort

    intent_id = str(task.payload["intent_id"])
    account = task.payload.get("stripe_account_id")
    # Never more than is left on the charge: a refund made in Stripe's Dashboard that we have
    # not heard of yet would make Stripe refuse the whole amount on every retry.
    left = stripe_gateway.charged(intent_id, stripe_account=account).left
    amount = min(int(task.payload["amount"]), left)
    if amount <= 0:
        logger.info("Nothing left to refund", extra={"task_id": task.id})
        return
    refund = stripe_gateway.refund(
        intent_id, amount=amount, idempotency_key=f"task-{task.id}", stripe_account=account
    )
    logger.info("Refunded automatically", extra={"task_id": task.id, "refund": refund.id})
    record_refund_best_effort(intent_id, refund.amount, now)
    # The payer hears of it in an email of its own, retried on its own.
    table.transact(
        [
            tasks.new_task_op(
                "email.payment_refunded",
                task.booking_id,
                now,
                amount=refund.amount,
                currency=task.payload["currency"],
                reason=task.payload["reason"],
            )
        ]
    )


def _cancel_intent(task: Task) -> None:
    from booking_core.payments import stripe_gateway
    from booking_core.store import payments

    intent_id = str(task.payload["intent_id"])
    payment = payments.get_payment(intent_id)
    account = payment.stripe_account_id if payment else None
    intent = stripe_gateway.retrieve_intent(intent_id, stripe_account=account)
    if intent.is_open:
        stripe_gateway.cancel_intent(intent_id, stripe_account=account)
