"""Meal cards: a signed login link for the QR code on each senior's card, and its check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import date, datetime
from typing import Protocol

import segno

CARD_LINK_PATH = "/card/"
CARD_KEY_PURPOSE = "meal-card"
SIGNATURE_CHARS = 22  # 132 bits of HMAC-SHA256: short enough for a small, easily scanned QR
EXPIRY_FORMAT = "%Y%m%d"
TOKEN_PATTERN = re.compile(
    r"^(?P<senior_id>[1-9][0-9]{0,9})\.(?P<issue>[1-9][0-9]{0,5})"
    r"(?:\.(?P<expires>[0-9]{8}))?\.(?P<signature>[A-Za-z0-9_-]{22})$"
)


class CardHolder(Protocol):
    """What a card is issued on: the senior, their card number and the card's issue number."""

    id: int
    card_number: str
    card_issue: int


def _signature(key: bytes, holder: CardHolder, expires: str) -> str:
    message = f"meal-card:{holder.id}:{holder.card_number}:{holder.card_issue}:{expires}"
    digest = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIGNATURE_CHARS]


def card_token(key: bytes, holder: CardHolder, *, expires: date | None = None) -> str:
    """The token printed in the card's QR: the senior, the card's issue number, an optional
    last valid day, and a signature over them and the card number.

    Re-issuing a card (a new issue number, `meals.seniors.service.reissue_card`) revokes every
    QR printed before. `key` is the settings' key for meal cards
    (`settings.key_for(CARD_KEY_PURPOSE)`), never the secret itself.
    """
    day = expires.strftime(EXPIRY_FORMAT) if expires else ""
    parts = [str(holder.id), str(holder.card_issue), *([day] if day else [])]
    return ".".join([*parts, _signature(key, holder, day)])


def token_senior_id(token: str) -> int | None:
    """The senior a token claims to be for (still to be verified with `token_valid`)."""
    match = TOKEN_PATTERN.match(token.strip())
    return int(match["senior_id"]) if match else None


def token_valid(key: bytes, token: str, holder: CardHolder, today: date) -> bool:
    """Whether the token was signed for this senior's current card and is not past its day."""
    match = TOKEN_PATTERN.match(token.strip())
    if match is None or int(match["senior_id"]) != holder.id:
        return False
    if int(match["issue"]) != holder.card_issue:
        return False
    day = match["expires"] or ""
    if day:
        try:
            if datetime.strptime(day, EXPIRY_FORMAT).date() < today:
                return False
        except ValueError:
            return False
    expected = _signature(key, holder, day)
    return hmac.compare_digest(expected.encode(), match["signature"].encode())


def token_in_scan(scanned: str) -> str | None:
    """The token in what a scanner read: a whole card link or the bare token."""
    text = scanned.strip()
    if CARD_LINK_PATH in text:
        text = text.split(CARD_LINK_PATH, 1)[1].split("?", 1)[0].strip("/")
    return text if TOKEN_PATTERN.match(text) else None


def qr_svg(link: str) -> str:
    """An inline SVG QR code for `link`, dark on light, sized for a printed card."""
    return segno.make(link, error="m").svg_inline(
        border=2, dark="#000", light="#fff", omitsize=True
    )
