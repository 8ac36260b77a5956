"""The emails' content: what each one tells its reader, on the venue's clock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from booking_core.domain import BookingStatus, CancellationTerms
from booking_core.notifications.messages import (
    Attachment,
    Email,
    booking_confirmation,
    cancellation_notice,
    operator_notification,
    payment_refunded_notice,
)
from tests.unit.notifications.builders import NEW_YORK, a_booking, a_user, a_venue


def test_a_confirmation_goes_to_the_user_by_name_and_replies_go_to_the_venue() -> None:
    # Given a paid booking
    booking, venue, user = a_booking(), a_venue(), a_user()

    # When the confirmation is composed
    email = booking_confirmation(booking, venue, user)

    # Then it is addressed to the user, and an answer reaches the venue's desk
    assert email.to == "Anna Berg <anna@example.com>"
    assert email.reply_to == "desk@sports-center.example"


def test_a_confirmation_subject_names_the_court_the_venue_and_the_local_start() -> None:
    # Given a booking at 18:00 in Berlin (17:00 UTC)
    booking = a_booking()

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the subject shows the venue's clock
    assert email.subject == "Booking confirmed: Court 1, Sports Center, Sat 21 Nov 2026 18:00"


def test_a_confirmation_tells_where_what_and_how_much() -> None:
    # Given a 90-minute booking for 37.50 EUR
    booking = a_booking()

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then text and HTML both carry the venue, address, reference, duration and price
    for body in (email.text, email.html or ""):
        assert "Sports Center" in body
        assert "Hauptstraße 1, Berlin" in body
        assert "CB7K2Q" in body
        assert "90 minutes" in body
        assert "37.50 EUR" in body


def test_a_confirmation_shows_the_date_and_times_in_the_venues_timezone() -> None:
    # Given a booking from 18:00 to 19:30 in Berlin
    booking = a_booking()

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the date and the local times are shown with the zone's name, not the UTC hours
    assert "Sat 21 Nov 2026" in email.text
    assert "18:00–19:30 (Europe/Berlin)" in email.text
    assert "17:00" not in email.text


def test_a_confirmation_for_a_new_york_venue_uses_new_york_time() -> None:
    # Given a booking at 09:00 in New York, during daylight saving time (13:00 UTC)
    booking = a_booking(timezone=NEW_YORK, start=(2026, 7, 4, 9, 0), minutes=60)
    venue = a_venue(timezone=NEW_YORK)

    # When the confirmation is composed
    email = booking_confirmation(booking, venue, a_user())

    # Then the New York date and times are shown
    assert email.subject.endswith("Sat 4 Jul 2026 09:00")
    assert "09:00–10:00 (America/New_York)" in email.text
    assert "60 minutes" in email.text


def test_a_confirmation_quotes_the_venues_policy_and_the_free_cancellation_time() -> None:
    # Given a booking whose terms give free cancellation until 48 hours before the start
    booking = a_booking(cancellation_terms=CancellationTerms(deadline_hours=0, free_hours=48))

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the policy text and the concrete time, on the venue's clock, are in the email
    assert "Cancel at least 48 hours ahead for a full refund." in email.text
    assert "Free cancellation until Thu 19 Nov 2026 18:00 (Europe/Berlin)." in email.text


def test_a_confirmation_says_what_share_is_refunded_after_the_free_period() -> None:
    # Given terms that refund half the price after the free period
    terms = CancellationTerms(deadline_hours=0, free_hours=24, late_refund_percent=50)
    booking = a_booking(cancellation_terms=terms)

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the late refund is stated as a share and an amount
    assert "Free cancellation until Fri 20 Nov 2026 18:00 (Europe/Berlin)." in email.text
    assert "50% of the price (18.75 EUR) is refunded" in email.text


def test_a_confirmation_says_a_late_cancellation_is_not_refunded_without_a_late_share() -> None:
    # Given terms without a late refund
    booking = a_booking(cancellation_terms=CancellationTerms(free_hours=24))

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the email says a late cancellation is not refunded
    assert "If you cancel after that, the price is not refunded." in email.text


def test_a_confirmation_says_until_when_the_booking_can_be_cancelled_at_all() -> None:
    # Given terms that stop cancellation 2 hours before the start
    booking = a_booking(cancellation_terms=CancellationTerms(deadline_hours=2, free_hours=24))

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the deadline is stated on the venue's clock
    assert (
        "The booking can be cancelled until Sat 21 Nov 2026 16:00 (Europe/Berlin) at the latest."
        in email.text
    )


def test_a_deadline_before_the_free_period_ends_ends_the_free_period() -> None:
    # Given terms whose cancellation deadline (48 h) comes before the free period ends (24 h)
    booking = a_booking(cancellation_terms=CancellationTerms(deadline_hours=48, free_hours=24))

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then free cancellation is promised only until the deadline, and no late refund is offered
    assert "Free cancellation until Thu 19 Nov 2026 18:00 (Europe/Berlin)." in email.text
    assert "If you cancel after that" not in email.text


def test_a_confirmation_has_the_booking_attached_as_a_calendar_invitation() -> None:
    # Given a paid booking
    booking = a_booking()

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then one .ics invitation named after the reference code is attached
    (attachment,) = email.attachments
    assert attachment.filename == "booking-CB7K2Q.ics"
    assert attachment.content_type == "text/calendar; method=REQUEST; charset=utf-8"
    assert "METHOD:REQUEST" in attachment.content
    assert "UID:bk-0001@booking-api" in attachment.content


def test_a_confirmation_escapes_venue_text_in_its_html() -> None:
    # Given a venue whose name and policy contain markup
    venue = a_venue(name="Courts <b>&</b> Co", cancellation_policy="<script>x</script>")

    # When the confirmation is composed
    email = booking_confirmation(a_booking(), venue, a_user())

    # Then the HTML shows the text rather than running it
    assert email.html is not None
    assert "Courts &lt;b&gt;&amp;&lt;/b&gt; Co" in email.html
    assert "<script>" not in email.html


def test_no_email_carries_the_payment_intent_or_the_password_hash() -> None:
    # Given a booking with a payment intent, and a user with a password hash
    booking, venue, user = a_booking(), a_venue(), a_user()

    # When every kind of email is composed
    emails = [
        booking_confirmation(booking, venue, user),
        operator_notification(booking, venue, user),
        cancellation_notice(booking, venue, user),
        payment_refunded_notice(booking, venue, user, Decimal("37.50"), "EUR", "already paid"),
    ]

    # Then none of them mentions either secret
    for email in emails:
        serialised = str(email.to_dict())
        assert "pi_3Nsecret" not in serialised
        assert "argon2" not in serialised


def test_an_operator_notification_goes_to_the_venue_and_names_the_booking() -> None:
    # Given a paid booking
    booking = a_booking()

    # When the operator notification is composed
    email = operator_notification(booking, a_venue(), a_user())

    # Then the venue receives it, with the reference and the local time in the subject
    assert email.to == "Sports Center <desk@sports-center.example>"
    assert email.subject == "New booking CB7K2Q: Court 1, Sat 21 Nov 2026 18:00"
    assert "18:00–19:30 (Europe/Berlin)" in email.text
    assert "37.50 EUR" in email.text


def test_an_operator_notification_gives_the_customers_contact_and_replies_reach_them() -> None:
    # Given a booking with a note from the user
    booking = a_booking(notes="We bring our own balls.")

    # When the operator notification is composed
    email = operator_notification(booking, a_venue(), a_user())

    # Then the customer's name, email and note are in it, and a reply goes to the customer
    assert "Anna Berg" in email.text
    assert "anna@example.com" in email.text
    assert "We bring our own balls." in email.text
    assert email.reply_to == "Anna Berg <anna@example.com>"


def test_an_operator_notification_quotes_a_customer_name_with_special_characters() -> None:
    # Given a user whose name contains a comma
    user = a_user(first_name="Anna, Dr.")

    # When the operator notification is composed
    email = operator_notification(a_booking(), a_venue(), user)

    # Then the reply address stays one mailbox
    assert email.reply_to == '"Anna, Dr. Berg" <anna@example.com>'


def test_an_operator_notification_needs_a_venue_email_address() -> None:
    # Given a venue without an email address
    venue = a_venue(email="")

    # When / Then composing the notification is refused
    with pytest.raises(ValueError, match="no email address"):
        operator_notification(a_booking(), venue, a_user())


def test_a_cancellation_notice_names_the_booking_and_attaches_a_calendar_cancellation() -> None:
    # Given a cancelled booking
    booking = a_booking(status=BookingStatus.CANCELLED)

    # When the cancellation notice is composed
    email = cancellation_notice(booking, a_venue(), a_user())

    # Then it says which booking was cancelled, and its .ics removes the event
    assert email.to == "Anna Berg <anna@example.com>"
    assert email.subject == "Booking cancelled: Court 1, Sports Center, Sat 21 Nov 2026 18:00"
    assert "Your booking CB7K2Q has been cancelled." in email.text
    assert "18:00–19:30 (Europe/Berlin)" in email.text
    (attachment,) = email.attachments
    assert attachment.content_type == "text/calendar; method=CANCEL; charset=utf-8"
    assert "METHOD:CANCEL" in attachment.content
    assert "STATUS:CANCELLED" in attachment.content
    assert "SEQUENCE:1" in attachment.content


def test_a_cancellation_notice_states_the_refund_issued() -> None:
    # Given a cancelled booking refunded in full
    booking = a_booking(status=BookingStatus.REFUNDED, refunded_amount=Decimal("37.50"))

    # When the cancellation notice is composed
    email = cancellation_notice(booking, a_venue(), a_user())

    # Then the refund is stated, and no partial refund is suggested
    assert "A refund of 37.50 EUR has been issued to your original payment method." in email.text
    assert "the rest is not refunded" not in email.text


def test_a_cancellation_notice_says_when_only_part_of_the_price_is_refunded() -> None:
    # Given a late cancellation refunded at half the price
    booking = a_booking(status=BookingStatus.REFUNDED, refunded_amount=Decimal("18.75"))

    # When the cancellation notice is composed
    email = cancellation_notice(booking, a_venue(), a_user())

    # Then both the refund and the unrefunded rest are stated
    assert "A refund of 18.75 EUR has been issued" in email.text
    assert (
        "You paid 37.50 EUR; under the venue's cancellation policy the rest is not refunded."
        in email.text
    )


def test_a_cancellation_notice_for_a_paid_booking_without_refund_says_none_is_due() -> None:
    # Given a paid booking cancelled too late for a refund
    booking = a_booking(status=BookingStatus.CANCELLED, refunded_amount=Decimal("0.00"))

    # When the cancellation notice is composed
    email = cancellation_notice(booking, a_venue(), a_user())

    # Then the email says no refund is due under the policy
    assert "Under the venue's cancellation policy, no refund is due" in email.text
    assert "A refund of" not in email.text


def test_a_cancellation_notice_for_an_unpaid_booking_says_nothing_was_charged() -> None:
    # Given a booking cancelled before it was paid
    booking = a_booking(status=BookingStatus.CANCELLED, paid_at=None)

    # When the cancellation notice is composed
    email = cancellation_notice(booking, a_venue(), a_user())

    # Then the email says nothing was charged
    assert "Nothing was charged for this booking." in email.text
    assert "refund" not in email.text.lower()


def test_a_payment_refunded_notice_gives_the_amount_and_the_reason() -> None:
    # Given a second payment for a booking that had already been paid
    booking = a_booking()

    # When the refund notice is composed
    email = payment_refunded_notice(
        booking, a_venue(), a_user(), Decimal("37.5"), "EUR", "the booking had already been paid"
    )

    # Then it tells the user what was refunded automatically, and why
    assert email.to == "Anna Berg <anna@example.com>"
    assert email.subject == "Payment refunded: 37.50 EUR for booking CB7K2Q"
    assert "refunded automatically" in email.text
    assert "the booking had already been paid" in email.text
    assert "18:00–19:30 (Europe/Berlin)" in email.text


def test_an_email_survives_a_round_trip_through_json_values() -> None:
    # Given a confirmation with an attachment
    email = booking_confirmation(a_booking(), a_venue(), a_user())

    # When it is turned into a dict and back
    restored = Email.from_dict(email.to_dict())

    # Then nothing is lost
    assert restored == email
    assert isinstance(restored.attachments[0], Attachment)


def test_a_subject_never_carries_a_line_break_into_the_header() -> None:
    # Given a court whose name contains a line break
    booking = a_booking(resource_name="Court 1\r\nBcc: everyone@example.com")

    # When the confirmation is composed
    email = booking_confirmation(booking, a_venue(), a_user())

    # Then the subject is one line
    assert "\n" not in email.subject
    assert "\r" not in email.subject
