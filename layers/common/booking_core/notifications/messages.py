"""The emails the booking API sends, composed from a booking, its venue and its user.

Pure composition: no I/O, no clock. Times are shown in the venue's timezone; nothing about the
payment method (card, token) is known here, so none of it can reach an email.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from booking_core.domain import VENUE_CANCELLED_REASON, Booking, BookingStatus, User, Venue
from booking_core.notifications.ics import booking_calendar

CALENDAR_REQUEST = "text/calendar; method=REQUEST; charset=utf-8"
CALENDAR_CANCEL = "text/calendar; method=CANCEL; charset=utf-8"

# English names regardless of the process locale.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Characters that make a display name need quotes in an address (RFC 5322 specials).
_SPECIALS = frozenset('()<>[]:;@\\,."')


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: str  # text content (the .ics)

    def to_dict(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "content": self.content,
        }


@dataclass(frozen=True, slots=True)
class Email:
    to: str  # one address, optionally with a display name: "Anna Berg <anna@example.com>"
    subject: str
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    reply_to: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The email as JSON-serialisable values, so that it can be stored and sent later."""
        return {
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
            "html": self.html,
            "attachments": [attachment.to_dict() for attachment in self.attachments],
            "reply_to": self.reply_to,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Email:
        """The email that `to_dict` gave `data` for."""
        return cls(
            to=data["to"],
            subject=data["subject"],
            text=data["text"],
            html=data.get("html"),
            attachments=tuple(
                Attachment(
                    filename=attachment["filename"],
                    content_type=attachment["content_type"],
                    content=attachment["content"],
                )
                for attachment in data.get("attachments", ())
            ),
            reply_to=data.get("reply_to"),
        )


def booking_confirmation(booking: Booking, venue: Venue, user: User) -> Email:
    """To the user, once the booking is paid: what, where, when, the price, the policy, an .ics."""
    when = _When(booking, venue)
    blocks: list[_Block] = [
        _greeting(user),
        "Your booking is confirmed.",
        _booking_details(booking, venue, when),
        _Heading("Cancellation policy"),
    ]
    if venue.cancellation_policy.strip():
        blocks.append(venue.cancellation_policy.strip())
    blocks.append("\n".join(_cancellation_terms(booking, when)))
    contact = _venue_contact(venue)
    if contact is not None:
        blocks += [_Heading("Questions about your booking?"), contact]
    blocks.append("The booking is attached as a calendar event.")
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject=_header(
            f"Booking confirmed: {booking.resource_name}, {venue.name}, {when.start_text}"
        ),
        text=_text(blocks),
        html=_html(blocks),
        attachments=(_calendar_attachment(booking, venue, cancelled=False),),
        reply_to=venue.email or None,
    )


def operator_notification(booking: Booking, venue: Venue, user: User) -> Email:
    """To the venue, once a booking is paid: the booking and who made it.

    Replies go to the user. Raises ValueError for a venue without an email address.
    """
    if not venue.email:
        raise ValueError(f"venue {venue.id} has no email address")
    when = _When(booking, venue)
    customer = [("Name", _full_name(user)), ("Email", user.email)]
    if booking.notes.strip():
        customer.append(("Notes", booking.notes.strip()))
    blocks: list[_Block] = [
        f"New booking {booking.reference_code} at {venue.name}.",
        _booking_details(booking, venue, when, status=True),
        _Heading("Customer"),
        _Details(tuple(customer)),
    ]
    return Email(
        to=_mailbox(venue.name, address=venue.email),
        subject=_header(
            f"New booking {booking.reference_code}: {booking.resource_name}, {when.start_text}"
        ),
        text=_text(blocks),
        html=_html(blocks),
        attachments=(_calendar_attachment(booking, venue, cancelled=False),),
        reply_to=_mailbox(user.first_name, user.last_name, address=user.email),
    )


def cancellation_notice(booking: Booking, venue: Venue, user: User) -> Email:
    """To the user, once the booking is cancelled: which booking, and what is refunded."""
    when = _When(booking, venue)
    details = [
        ("Reference", booking.reference_code),
        ("Venue", venue.name),
        ("Booked", booking.resource_name),
        ("Date", when.date_text),
        ("Time", when.time_range_text),
    ]
    opening = f"Your booking {booking.reference_code} has been cancelled."
    if booking.cancellation_reason == VENUE_CANCELLED_REASON:
        # The venue cancelled it: say so, and why, in the venue's words.
        opening = f"{venue.name} has cancelled your booking {booking.reference_code}."
        if booking.cancellation_notes.strip():
            details.insert(0, ("Reason", _header(booking.cancellation_notes)))
    blocks: list[_Block] = [
        _greeting(user),
        opening,
        _Details(tuple(details)),
        "\n".join(_refund(booking)),
        "The attached calendar update removes the event from your calendar.",
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject=_header(
            f"Booking cancelled: {booking.resource_name}, {venue.name}, {when.start_text}"
        ),
        text=_text(blocks),
        html=_html(blocks),
        attachments=(_calendar_attachment(booking, venue, cancelled=True),),
        reply_to=venue.email or None,
    )


def payment_refunded_notice(
    booking: Booking, venue: Venue, user: User, amount: Decimal, currency: str, reason: str
) -> Email:
    """To the user, when a payment could not be accepted for the booking and was refunded."""
    when = _When(booking, venue)
    refunded = _money(amount, currency)
    blocks: list[_Block] = [
        _greeting(user),
        f"We received a payment of {refunded} for booking {booking.reference_code} but could "
        "not accept it, so it was refunded automatically to your original payment method. "
        "It may take a few business days to appear on your statement.",
        _Details(
            (
                ("Refunded", refunded),
                ("Reason", reason.strip()),
                ("Reference", booking.reference_code),
                ("Venue", venue.name),
                ("Booked", booking.resource_name),
                ("Date", when.date_text),
                ("Time", when.time_range_text),
            )
        ),
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject=_header(f"Payment refunded: {refunded} for booking {booking.reference_code}"),
        text=_text(blocks),
        html=_html(blocks),
        reply_to=venue.email or None,
    )


# What each venue role may do, as the staff emails tell it.
_ROLE_DUTIES = {
    "owner": "run everything at the venue, including its staff and its Stripe account",
    "manager": "manage the courts, prices, closures and bookings",
    "staff": "see the bookings, book walk-in customers and mark no-shows",
}


def staff_added(venue: Venue, user: User, role: str) -> Email:
    """To a person with an account, added to a venue's staff: where, and in which role."""
    blocks: list[_Block] = [
        _greeting(user),
        f"You have been added to the staff of {venue.name} as {role}.",
        _Details((("Venue", venue.name), ("Role", role), ("Your account", user.email))),
        f"As {role} you can {_ROLE_DUTIES.get(role, 'work for the venue')}. "
        "Sign in with your account to start.",
        "If you did not expect this, reply to this email.",
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject=_header(f"You are now {role} at {venue.name}"),
        text=_text(blocks),
        html=_html(blocks),
        reply_to=venue.email or None,
    )


def staff_invitation(venue: Venue, email: str, role: str, expires_at: datetime) -> Email:
    """To an address without an account, invited to a venue's staff: how to accept, and until
    when (on the venue's clock)."""
    until = f"{_date_time(expires_at.astimezone(ZoneInfo(venue.timezone)))} ({venue.timezone})"
    blocks: list[_Block] = [
        "Hello,",
        f"You are invited to join the staff of {venue.name} as {role}.",
        _Details(
            (("Venue", venue.name), ("Role", role), ("Invited", email), ("Valid until", until))
        ),
        f"As {role} you can {_ROLE_DUTIES.get(role, 'work for the venue')}.",
        "To accept, create your account with this email address and confirm the address "
        "before the invitation runs out: you join the venue's staff as soon as it is "
        "confirmed. If you have an account already, sign in with it.",
        "If you did not expect this invitation, you can ignore this email.",
    ]
    return Email(
        to=email,
        subject=_header(f"Invitation: join {venue.name} as {role}"),
        text=_text(blocks),
        html=_html(blocks),
        reply_to=venue.email or None,
    )


def email_confirmation(user: User, token: str, expires_at: datetime, api_base: str) -> Email:
    """To a person who has just signed up: the token that confirms their address, the booking
    page that takes it (when the API knows its public address), and the call that uses it."""
    blocks: list[_Block] = [
        _greeting(user),
        "Thank you for signing up. To confirm that this address is yours, send this token:",
        _Details((("Token", token), ("Valid until", _utc(expires_at)))),
        *_page_link(
            "Or open the booking page with it, and press Confirm:",
            api_base,
            f"confirm-email={token}",
        ),
        f'POST {api_base}/api/v1/auth/confirm-email/ with the JSON body {{"token": "{token}"}}',
        "Until the address is confirmed you can sign in and look around, but not book. "
        "The token works once. A new one: POST "
        f"{api_base}/api/v1/auth/confirm-email/resend/ with your email.",
        "If you did not sign up, you can ignore this email: nothing happens without the token.",
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject="Confirm your email address",
        text=_text(blocks),
        html=_html(blocks),
    )


def sign_up_attempted(user: User, api_base: str) -> Email:
    """To the owner of an address someone tried to sign up with again: their account exists,
    and how to get back in if they forgot the password."""
    blocks: list[_Block] = [
        _greeting(user),
        "Someone (perhaps you) tried to sign up with this email address, which already has an "
        "account. No new account was created and yours is unchanged.",
        "If it was you and you forgot your password, ask for a reset: POST "
        f'{api_base}/api/v1/auth/password-reset/ with {{"email": "{user.email}"}}.',
        "If it was not you, you can ignore this email.",
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject="Someone tried to sign up with your email address",
        text=_text(blocks),
        html=_html(blocks),
    )


def password_reset(user: User, token: str, expires_at: datetime, api_base: str) -> Email:
    """To a person who asked to reset their password: the token, and the call that uses it."""
    blocks: list[_Block] = [
        _greeting(user),
        "Someone (hopefully you) asked to reset the password of your account. To choose a "
        "new password, send this token with it:",
        _Details((("Token", token), ("Valid until", _utc(expires_at)))),
        *_page_link("Or choose it on the booking page:", api_base, f"reset-password={token}"),
        f"POST {api_base}/api/v1/auth/password-reset/confirm/ with the JSON body "
        f'{{"token": "{token}", "new_password": "..."}}',
        "The token works once. Setting the new password signs you out everywhere.",
        "If you did not ask for this, you can ignore this email: your password stays as it is.",
    ]
    return Email(
        to=_mailbox(user.first_name, user.last_name, address=user.email),
        subject="Reset your password",
        text=_text(blocks),
        html=_html(blocks),
    )


def _page_link(sentence: str, api_base: str, fragment: str) -> list[_Block]:
    """The booking page with the token in the URL's fragment, which browsers never send to a
    server (so no log holds it); none when the API does not know its public address."""
    if not api_base:
        return []
    return [f"{sentence} {api_base}/#{fragment}"]


def _utc(moment: datetime) -> str:
    return f"{_date_time(moment.astimezone(ZoneInfo('UTC')))} (UTC)"


class _When:
    """A booking's times as the venue's clock shows them."""

    def __init__(self, booking: Booking, venue: Venue) -> None:
        self.zone_name = venue.timezone
        self._zone = ZoneInfo(venue.timezone)
        self.start = booking.start.astimezone(self._zone)
        self.end = booking.end.astimezone(self._zone)
        self.start_text = _date_time(self.start)
        self.date_text = _date(self.start)

    @property
    def time_range_text(self) -> str:
        end = f"{self.end:%H:%M}"
        if self.end.date() != self.start.date():
            end = _date_time(self.end)
        return f"{self.start:%H:%M}–{end} ({self.zone_name})"

    def moment(self, moment: datetime) -> str:
        """`moment` on the venue's clock, with the zone named: 'Thu 19 Nov 2026 18:00 (...)'."""
        return f"{_date_time(moment.astimezone(self._zone))} ({self.zone_name})"


def _booking_details(
    booking: Booking, venue: Venue, when: _When, *, status: bool = False
) -> _Details:
    rows = [
        ("Reference", booking.reference_code),
        ("Venue", venue.name),
        ("Address", venue.full_address or booking.venue_address),
        ("Booked", booking.resource_name),
        ("Date", when.date_text),
        ("Time", when.time_range_text),
        ("Duration", f"{booking.duration_minutes} minutes"),
        ("Participants", str(booking.participant_count)),
        ("Price", _money(booking.total_price, booking.currency)),
    ]
    if status:
        rows.append(("Status", booking.status.value))
    return _Details(tuple(rows))


def _cancellation_terms(booking: Booking, when: _When) -> list[str]:
    """The booking's own terms as concrete times: until when free, what later, until when at all."""
    terms = booking.cancellation_terms
    deadline = booking.cancellation_deadline
    # A deadline before the end of the free period ends the free period too.
    free_until = min(booking.free_cancellation_until, deadline)
    lines = [f"Free cancellation until {when.moment(free_until)}."]
    if booking.free_cancellation_until < deadline:
        if terms.late_refund_percent > 0:
            share = booking.total_price * terms.late_refund_percent / 100
            lines.append(
                f"If you cancel after that, {terms.late_refund_percent}% of the price "
                f"({_money(share, booking.currency)}) is refunded."
            )
        else:
            lines.append("If you cancel after that, the price is not refunded.")
    if terms.deadline_hours > 0:
        lines.append(f"The booking can be cancelled until {when.moment(deadline)} at the latest.")
    return lines


def _refund(booking: Booking) -> list[str]:
    paid = _money(booking.total_price, booking.currency)
    if booking.refunded_amount > 0:
        lines = [
            f"A refund of {_money(booking.refunded_amount, booking.currency)} has been issued "
            "to your original payment method."
        ]
        if booking.refunded_amount < booking.total_price:
            lines.append(
                f"You paid {paid}; under the venue's cancellation policy the rest is not refunded."
            )
        lines.append("It may take a few business days to appear on your statement.")
        return lines
    was_paid = booking.paid_at is not None or booking.status in {
        BookingStatus.PAID,
        BookingStatus.REFUNDED,
    }
    if was_paid:
        return [
            f"Under the venue's cancellation policy, no refund is due for this cancellation "
            f"(you paid {paid})."
        ]
    return ["Nothing was charged for this booking."]


def _calendar_attachment(booking: Booking, venue: Venue, *, cancelled: bool) -> Attachment:
    return Attachment(
        filename=f"booking-{booking.reference_code}.ics",
        content_type=CALENDAR_CANCEL if cancelled else CALENDAR_REQUEST,
        content=booking_calendar(booking, venue, cancelled=cancelled),
    )


def _greeting(user: User) -> str:
    return f"Hello {user.first_name.strip()}," if user.first_name.strip() else "Hello,"


def _venue_contact(venue: Venue) -> _Details | None:
    rows = tuple(
        (label, value) for label, value in (("Phone", venue.phone), ("Email", venue.email)) if value
    )
    return _Details(rows) if rows else None


def _full_name(user: User) -> str:
    return " ".join(part for part in (user.first_name.strip(), user.last_name.strip()) if part)


def _mailbox(*name_parts: str, address: str) -> str:
    """'Name <address>', the name quoted where RFC 5322 needs it; just the address if no name."""
    name = _header(" ".join(name_parts))
    if not name:
        return address
    if _SPECIALS.intersection(name):
        name = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{name} <{address}>"


def _header(value: str) -> str:
    """One line: a name or subject must not carry a line break into a header."""
    return " ".join(value.split())


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)} {currency}"


def _date(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]} {moment.day} {_MONTHS[moment.month - 1]} {moment.year}"


def _date_time(moment: datetime) -> str:
    return f"{_date(moment)} {moment:%H:%M}"


# The body of an email, rendered once as text and once as HTML.


@dataclass(frozen=True, slots=True)
class _Heading:
    text: str


@dataclass(frozen=True, slots=True)
class _Details:
    rows: tuple[tuple[str, str], ...]


type _Block = str | _Heading | _Details  # a str is a paragraph


def _text(blocks: Sequence[_Block]) -> str:
    rendered: list[str] = []
    for block in blocks:
        match block:
            case _Heading(text):
                rendered.append(f"{text}\n{'-' * len(text)}")
            case _Details(rows):
                width = max(len(label) for label, _ in rows) + 1
                rendered.append(
                    "\n".join(f"{label + ':':<{width}} {value}" for label, value in rows)
                )
            case str():
                rendered.append(block)
    return "\n\n".join(rendered) + "\n"


def _html(blocks: Sequence[_Block]) -> str:
    rendered: list[str] = []
    for block in blocks:
        match block:
            case _Heading(text):
                rendered.append(f"<h2>{html.escape(text)}</h2>")
            case _Details(rows):
                cells = "\n".join(
                    f'<tr><th align="left">{html.escape(label)}</th>'
                    f"<td>{html.escape(value)}</td></tr>"
                    for label, value in rows
                )
                rendered.append(f"<table>\n{cells}\n</table>")
            case str():
                paragraph = html.escape(block).replace("\n", "<br>\n")
                rendered.append(f"<p>{paragraph}</p>")
    body = "\n".join(rendered)
    return (
        '<!DOCTYPE html>\n<html>\n<body style="font-family: sans-serif">\n'
        f"{body}\n</body>\n</html>\n"
    )
