"""Helpers for page tests: forms are submitted as a browser would, with the page's CSRF token."""

from __future__ import annotations

import re
from html import unescape

from httpx import Response
from litestar.testing import AsyncTestClient

CSRF_FIELD = re.compile(r'name="_csrf_token" value="([^"]+)"')
TAGS = re.compile(r"<[^>]+>")
SPACES = re.compile(r"\s+")


def csrf_token(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no form with a CSRF token"
    return unescape(match[1])


def visible_text(html: str) -> str:
    """The page's text as a reader sees it, tags removed and spaces collapsed."""
    body = html.split("<body", 1)[-1]
    return SPACES.sub(" ", unescape(TAGS.sub(" ", body))).strip()


async def submit(
    client: AsyncTestClient, page: str, action: str, fields: dict[str, object]
) -> Response:
    """Open `page`, then post `fields` to `action` with that page's CSRF token (no redirects)."""
    opened = await client.get(page)
    assert opened.status_code == 200, opened.text
    data = {"_csrf_token": csrf_token(opened.text), **{k: str(v) for k, v in fields.items()}}
    return await client.post(action, data=data, follow_redirects=False)


async def page_login(client: AsyncTestClient, login: str, password: str) -> Response:
    return await submit(client, "/login", "/login", {"login": login, "password": password})
