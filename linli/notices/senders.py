"""Pluggable notification senders: the in-app inbox always holds the notification; these relay
it by other channels. `LINLI_NOTIFY_SENDERS` lists their dotted paths (default: the console).

A sender is a class with `send(notification)`; to add a channel (a real SMS gateway), subclass
`SmsSender` and implement `send`. Senders never log an e-mail address or a phone number:
only the notification's id, kind and user id.
"""

import logging
from abc import ABC, abstractmethod

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from linli.notices.models import Notification

logger = logging.getLogger("linli.notices")

DEFAULT_SENDERS = ["linli.notices.senders.ConsoleSender"]
SMS_MAX_CHARS = 70  # one SMS segment of Chinese text


class Sender(ABC):
    @abstractmethod
    def send(self, notification: Notification) -> None:
        """Relay one notification; raise on failure (the caller logs it and goes on)."""


def _link(notification: Notification) -> str:
    """The notification's link, absolute when LINLI_SITE_URL is set (e.g. https://linli.example)."""
    if not notification.url:
        return ""
    base = getattr(settings, "LINLI_SITE_URL", "").rstrip("/")
    return f"{base}{notification.url}"


class ConsoleSender(Sender):
    """Development: a log line on the `linli.notices` logger (kind and user id only)."""

    def send(self, notification: Notification) -> None:
        logger.info(
            "notification %s kind=%s user=%s",
            notification.pk,
            notification.kind,
            notification.user_id,
        )


class EmailSender(Sender):
    """Django's send_mail to the user's e-mail address, when they have one."""

    def send(self, notification: Notification) -> None:
        address = (notification.user.email or "").strip()
        if not address:
            return
        lines = [notification.body] if notification.body else []
        link = _link(notification)
        if link:
            lines.append(link)
        # A header must be one line.
        subject = " ".join(notification.title.split())
        send_mail(subject, "\n\n".join(lines) or subject, None, [address], fail_silently=False)


class SmsSender(Sender):
    """Base for SMS gateways. `phone_for` finds the user's mobile in the register (the resident
    linked to the account); `text_for` makes the short message; `send` is the gateway's."""

    def phone_for(self, user) -> str:
        from linli.core.crypto import DecryptionError, decrypt
        from linli.people.models import Resident

        cipher = (
            Resident.objects.filter(account=user).values_list("phone_cipher", flat=True).first()
        )
        if not cipher:
            return ""
        try:
            phone = decrypt(cipher)
        except DecryptionError:
            return ""
        return phone if len(phone) == 11 and phone.startswith("1") else ""

    def text_for(self, notification: Notification) -> str:
        text = notification.title
        link = _link(notification)
        if link:
            text = f"{text} {link}"
        return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"

    @abstractmethod
    def send(self, notification: Notification) -> None: ...


class ConsoleSmsSender(SmsSender):
    """Development: logs that an SMS would go out (never the number or the text)."""

    def send(self, notification: Notification) -> None:
        if not self.phone_for(notification.user):
            return
        logger.info(
            "sms notification %s kind=%s user=%s chars=%d",
            notification.pk,
            notification.kind,
            notification.user_id,
            len(self.text_for(notification)),
        )


def configured_senders() -> list[Sender]:
    """An instance of each configured sender; one that cannot be loaded is logged and skipped."""
    senders = []
    for path in getattr(settings, "LINLI_NOTIFY_SENDERS", DEFAULT_SENDERS):
        try:
            senders.append(import_string(path)())
        except Exception as exc:
            logger.error("notices: sender %s cannot be loaded (%s)", path, type(exc).__name__)
    return senders
