"""Clicks that load a new page.

A click returns as soon as the browser has dispatched it; reading the page straight after can
read the page being left. `follow` waits for the page the click leads to, so what the test reads
next is what the user sees next.
"""

from __future__ import annotations


def follow(target) -> None:
    """Click a link or a submit button (a Playwright locator) and wait for the page it loads."""
    with target.page.expect_navigation():
        target.click()
