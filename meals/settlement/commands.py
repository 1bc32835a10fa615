"""`warmmeal settlement …`: a month's figures in a file, and closing a month, from a shell."""

from __future__ import annotations

from datetime import datetime

from meals.accounts.service import Actor
from meals.callbacks.service import month_summary
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.settings import Settings
from meals.settlement import exports, service
from meals.settlement.months import parse_month
from meals.words import Role

# The shell is the operator's own: it reads and closes as the operator, on no account.
SHELL_OPERATOR = Actor(account_id=0, role=Role.ADMIN, display_name="warmmeal settlement close")


async def month_command(settings: Settings, *, month: str, export_format: str) -> bytes:
    """The month's settlement as json, csv, xlsx or pdf bytes."""
    month_start = parse_month(month)
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            report = await service.month_report(
                session, actor=SHELL_OPERATOR, month_start=month_start, settings=settings
            )
            satisfaction = await month_summary(
                session,
                actor=SHELL_OPERATOR,
                month_start=month_start,
                low_rating=settings.callback_low_rating,
            )
    finally:
        await engine.dispose()
    return render(report, export_format, settings, satisfaction)


def render(
    report: service.MonthReport,
    export_format: str,
    settings: Settings,
    satisfaction: dict | None = None,
) -> bytes:
    if export_format == "json":
        return exports.to_json(report)
    if export_format == "csv":
        return (exports.EXCEL_FRIENDLY_BOM + exports.to_csv(report)).encode()
    if export_format == "xlsx":
        return exports.to_xlsx(report, satisfaction)
    from meals.pages.setup import template_config

    return exports.to_pdf(template_config(settings).to_engine().engine, report, settings)


async def close_command(settings: Settings, *, month: str, now: datetime) -> service.MonthReport:
    engine = create_engine(settings)
    try:
        async with session_scope(create_sessionmaker(engine)) as session:
            return await service.close_month(
                session,
                actor=SHELL_OPERATOR,
                month_start=parse_month(month),
                now=now,
                settings=settings,
            )
    finally:
        await engine.dispose()
