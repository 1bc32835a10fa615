"""Meal cards: a signed login link for the QR code on each senior's card, and its check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import segno

CARD_LINK_PATH = "/card/"
SIGNATURE_CHARS = 22  # 132 bits of HMAC-SHA256: short enough for a small, easily scanned QR
TOKEN_PATTERN = re.compile(r"^(?P<senior_id>[1-9][0-9]{0,9})\.(?P<signature>[A-Za-z0-9_-]+)$")


CARD_KEY_PURPOSE = "meal-card"


def _signature(key: bytes, senior_id: int, card_number: str) -> str:
    message = f"meal-card:{senior_id}:{card_number}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIGNATURE_CHARS]


def card_token(key: bytes, senior_id: int, card_number: str) -> str:
    """The token printed in the card's QR; re-issuing the card number invalidates old cards.

    `key` is the settings' key for meal cards (`settings.key_for(CARD_KEY_PURPOSE)`), never the
    secret itself.
    """
    return f"{senior_id}.{_signature(key, senior_id, card_number)}"


def token_senior_id(token: str) -> int | None:
    """The senior a token claims to be for (still to be verified against the card number)."""
    match = TOKEN_PATTERN.match(token.strip())
    return int(match["senior_id"]) if match else None


def token_matches(key: bytes, token: str, senior_id: int, card_number: str) -> bool:
    expected = card_token(key, senior_id, card_number)
    return hmac.compare_digest(expected.encode(), token.strip().encode())


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
