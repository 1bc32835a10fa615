"""Printable sheets as PDF (WeasyPrint), kept by content so printing one again is instant.

Rendering a kitchen or route sheet takes seconds to tens of seconds. A sheet is printed
more than once (each station, a re-print, a second van), and its HTML says everything the
PDF will show, so the PDF is kept under the hash of its HTML: the same sheet costs nothing
the second time, and any change (a re-frozen run, a re-plan) is a new file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def render_pdf(html: str, cache_dir: Path | None = None, keep: int = 0) -> bytes:
    """A4 PDF of `html`; slow, so call it off the event loop.

    With `cache_dir`, reuse the PDF of identical HTML and keep the `keep` newest files.
    """
    if cache_dir is None:
        return _render(html)
    cached = _cache_path(html, cache_dir)
    with _one_render_at_a_time(cached):
        try:
            content = cached.read_bytes()
        except FileNotFoundError:
            content = _render(html)
            _write_atomically(cached, content)
            _prune(cache_dir, keep)
        else:
            os.utime(cached)  # recently used: kept longest
        return content


def _cache_path(html: str, cache_dir: Path) -> Path:
    return cache_dir / f"{hashlib.sha256(html.encode()).hexdigest()}.pdf"


def is_cached(html: str, cache_dir: Path) -> bool:
    """Whether the PDF of `html` is in the cache already (a printed sheet is ready)."""
    return _cache_path(html, cache_dir).exists()


_renders: dict[Path, threading.Event] = {}
_renders_lock = threading.Lock()


@contextmanager
def _one_render_at_a_time(target: Path) -> Iterator[None]:
    """A second asker for `target` (a cook opening a sheet while it is being readied after a
    freeze) waits for the render under way, then finds the file, instead of rendering again."""
    with _renders_lock:
        running = _renders.get(target)
        if running is None:
            _renders[target] = threading.Event()
    if running is not None:
        running.wait()
        yield
        return
    try:
        yield
    finally:
        with _renders_lock:
            _renders.pop(target).set()


def _render(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _write_atomically(path: Path, content: bytes) -> None:
    """Whole or not at all, so a worker never reads half a PDF another is writing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as part:
        part.write(content)
    Path(part.name).replace(path)


def _prune(cache_dir: Path, keep: int) -> None:
    files = sorted(cache_dir.glob("*.pdf"), key=_modified, reverse=True)
    for old in files[keep:]:
        old.unlink(missing_ok=True)


def _modified(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # pruned by another worker meanwhile
        return 0.0
