"""Sending an email the way this process is configured to: Mailgun in AWS, files locally."""

from __future__ import annotations

from booking_core.notifications.mailgun import DeliveryFailed, send_via_mailgun
from booking_core.notifications.messages import Email
from booking_core.observability import logger
from booking_core.settings import get_settings


def send(email: Email, email_id: str) -> None:
    """Send `email`, or capture it if the settings name a capture folder (local mode only).

    `email_id` names the email in the logs and the capture file (for example the booking id and
    the kind of email). Raises DeliveryFailed; retryable if Mailgun is not configured, since
    configuration can be fixed without changing the email.
    """
    settings = get_settings()
    capture_dir = settings.effective_mail_capture_dir
    if capture_dir:
        from booking_core.notifications.capture import capture

        path = capture(email, capture_dir, email_id, settings.email_sender)
        logger.info(
            "Email captured",
            extra={"email_id": email_id, "subject": email.subject, "path": str(path)},
        )
        return
    if not (settings.mailgun_api_key and settings.mailgun_domain):
        raise DeliveryFailed(
            "Mailgun is not configured (MAILGUN_API_KEY and MAILGUN_DOMAIN)", retryable=True
        )
    message_id = send_via_mailgun(
        email,
        api_base=settings.mailgun_api_base,
        domain=settings.mailgun_domain,
        api_key=settings.mailgun_api_key,
        sender=settings.email_sender,
    )
    logger.info(
        "Email sent",
        extra={"email_id": email_id, "subject": email.subject, "message_id": message_id},
    )
