"""The one Jinja configuration shared by the pages and the printed sheets.

Kept apart from ``meals.pages.setup`` (which imports every page) so that an area's sheets,
its CLI and its pages render through the same environment without importing each other.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from meals.settings import Settings


def template_config(settings: Settings) -> TemplateConfig:
    """The app's template configuration (Litestar's Jinja engine over ``templates/``)."""
    return TemplateConfig(directory=settings.templates_dir, engine=JinjaTemplateEngine)


@cache
def _environment(directory: Path) -> Environment:
    return JinjaTemplateEngine(directory=directory).engine


def environment(settings: Settings) -> Environment:
    """The Jinja environment the pages use, for rendering outside a request (CLI, jobs)."""
    return _environment(Path(settings.templates_dir))
