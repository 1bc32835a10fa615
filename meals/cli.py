"""The `warmmeal` command: migrate, seed the demo district, serve."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from meals import migrate
from meals.clock import Clock
from meals.db import create_engine, create_sessionmaker, session_scope
from meals.settings import InsecureSecret, Settings

console = Console(stderr=True)
MENU_DAYS = 7


class _Commands(click.Group):
    """Turns a refused secret into one plain sentence instead of a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except InsecureSecret as refused:
            raise click.ClickException(str(refused)) from refused


@click.group(cls=_Commands)
def main() -> None:
    """WarmMeal (暖心饭): community meals for seniors."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from meals.jobs.queue import ensure_schema

    settings = Settings.from_env()
    migrate.upgrade(settings, revision)
    if asyncio.run(ensure_schema(settings)):
        console.print("job queue schema (procrastinate) applied")
    console.print(f"database at {revision}: {_safe_url(settings.database_url)}")


@main.command()
def worker() -> None:
    """Run the job queue: menus ahead, standing orders, alerts, webhooks, month close."""
    import logging

    from meals.jobs.queue import run_worker
    from meals.ops.logs import configure_logging

    settings = Settings.from_env()
    configure_logging()
    logging.getLogger("meals.jobs").setLevel(logging.INFO)
    console.print(
        f"worker on {_safe_url(settings.database_url)}, periodic jobs every "
        f"{settings.job_interval_minutes} min"
        + (f", clock at {settings.frozen_now.isoformat()}" if settings.frozen_now else "")
    )
    asyncio.run(run_worker(settings))


@main.group()
def seed() -> None:
    """Demo data."""


@seed.command("demo")
@click.option("--seed", "seed_value", default=7, show_default=True, help="Random seed.")
@click.option("--seniors", default=3000, show_default=True, type=click.IntRange(1, 500_000))
@click.option(
    "--booking-days",
    default=0,
    show_default=True,
    type=click.IntRange(0, 31),
    help="Also create lunch bookings for this many days from today.",
)
@click.option(
    "--history-days",
    default=0,
    show_default=True,
    type=click.IntRange(0, 400),
    help="Also create this many past days of outcomes: check-ins, deliveries, no-shows, ratings.",
)
@click.option(
    "--if-empty",
    is_flag=True,
    help="If already seeded, only top up menus (and --booking-days days that have no bookings).",
)
def seed_demo(
    seed_value: int, seniors: int, booking_days: int, history_days: int, if_empty: bool
) -> None:
    """Create the Karamay demo district (deterministic for a given --seed)."""
    asyncio.run(_seed_demo(seed_value, seniors, booking_days, history_days, if_empty))


async def _seed_demo(
    seed_value: int, seniors: int, booking_days: int, history_days: int, if_empty: bool
) -> None:
    from seed import demo
    from seed.history import seed_history

    settings = Settings.from_env()
    engine = create_engine(settings)
    sessions = create_sessionmaker(engine)
    now = Clock(settings.frozen_now).now()
    today = settings.district_today(now)
    try:
        async with session_scope(sessions) as session:
            if await demo.is_seeded(session):
                if not if_empty:
                    raise click.ClickException("The database already holds a district.")
                added = await demo.ensure_menus(
                    session, start=today, days=MENU_DAYS, published_at=now
                )
                await session.commit()
                booked = await demo.top_up_bookings(
                    session, seed=seed_value, start=today, days=booking_days, now=now
                )
                console.print(
                    f"already seeded; {added} new menus published for the coming week (the "
                    f"worker expands standing orders over them); {booked} demo lunch bookings "
                    f"added for days that had none"
                )
                return
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as bar:
                tasks: dict[str, int] = {}

                def progress(task: str, done: int, total: int) -> None:
                    if task not in tasks:
                        tasks[task] = bar.add_task(task, total=total)
                    bar.update(tasks[task], completed=done)

                summary = await demo.seed_demo(
                    session,
                    seed=seed_value,
                    seniors=seniors,
                    today=today,
                    now=now,
                    menu_days=MENU_DAYS,
                    booking_days=booking_days,
                    progress=progress,
                )
                if history_days:
                    past = await seed_history(
                        session, seed=seed_value, today=today, days=history_days, now=now
                    )
                    console.print(
                        f"history: {past.bookings} bookings over {history_days} days, "
                        f"{past.served} served, {past.delivered} delivered, {past.no_shows} "
                        f"no-shows, {past.failed_deliveries} failed deliveries, "
                        f"{past.ratings} ratings"
                    )
        console.print(
            f"seeded {summary.sites} sites, {summary.seniors} seniors, {summary.accounts} "
            f"accounts, {summary.menus} menus, {summary.bookings} bookings"
        )
        for login, password in summary.demo_logins.items():
            console.print(f"  demo login {login} / {password}")
    finally:
        await engine.dispose()


@main.group()
def kitchen() -> None:
    """Central-kitchen production plans."""


@kitchen.command("plan")
@click.option("--date", "service_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--slot", default="lunch", show_default=True, type=click.Choice(["lunch", "dinner"]))
@click.option(
    "--format",
    "sheet_format",
    default="html",
    show_default=True,
    type=click.Choice(["html", "pdf", "csv", "json"]),
)
@click.option("--sheet", default=None, help="One sheet only (csv defaults to production).")
@click.option("--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
@click.option("--freeze", is_flag=True, help="Store the plan as the production run to cook from.")
def kitchen_plan(
    service_date: datetime,
    slot: str,
    sheet_format: str,
    sheet: str | None,
    output: str | None,
    freeze: bool,
) -> None:
    """Plan (and with --freeze, freeze) the production of a date and slot from its bookings."""
    from meals.production.commands import plan_command

    settings = Settings.from_env()
    content = asyncio.run(
        plan_command(
            settings,
            service_date=service_date.date(),
            slot=slot,
            sheet_format=sheet_format,
            sheet=sheet,
            freeze=freeze,
            now=Clock(settings.frozen_now).now(),
        )
    )
    if output:
        Path(output).write_bytes(content)
        console.print(f"wrote {output}")
    else:
        click.get_binary_stream("stdout").write(content)


@kitchen.command("sheet")
@click.option("--date", "service_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--slot", default="lunch", show_default=True, type=click.Choice(["lunch", "dinner"]))
@click.option(
    "--sheet", "sheet", default="labels", show_default=True, type=click.Choice(["labels"])
)
@click.option(
    "--format", "sheet_format", default="csv", show_default=True, type=click.Choice(["csv"])
)
def kitchen_sheet(service_date: datetime, slot: str, sheet: str, sheet_format: str) -> None:
    """The frozen run's labels: one CSV row per box, as packed for the current route plan."""
    from meals.production.commands import labels_command

    settings = Settings.from_env()
    click.get_binary_stream("stdout").write(
        asyncio.run(labels_command(settings, service_date=service_date.date(), slot=slot))
    )


@main.group()
def routes() -> None:
    """Delivery routes and welfare alerts."""


@routes.command("plan")
@click.option("--date", "service_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--slot", default="lunch", show_default=True, type=click.Choice(["lunch", "dinner"]))
@click.option("--exclude-van", "exclude_vans", multiple=True, help="A van out of service.")
@click.option(
    "--format", "out_format", default="text", show_default=True, type=click.Choice(["text", "json"])
)
def routes_plan(
    service_date: datetime, slot: str, exclude_vans: tuple[str, ...], out_format: str
) -> None:
    """Plan (or re-plan) the delivery routes of a date and slot, re-flow the kitchen's
    waves, packing and labels, and print the summary (or the plan as JSON)."""
    from meals.deliveries.commands import plan_command, plan_json_command

    settings = Settings.from_env()
    if out_format == "json":
        click.get_binary_stream("stdout").write(
            asyncio.run(
                plan_json_command(
                    settings,
                    service_date=service_date.date(),
                    slot=slot,
                    exclude_vans=exclude_vans,
                    now=Clock(settings.frozen_now).now(),
                )
            )
        )
        return
    click.echo(
        asyncio.run(
            plan_command(
                settings,
                service_date=service_date.date(),
                slot=slot,
                exclude_vans=exclude_vans,
                now=Clock(settings.frozen_now).now(),
            )
        ),
        nl=False,
    )


@routes.command("sheet")
@click.option("--date", "service_date", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--slot", default="lunch", show_default=True, type=click.Choice(["lunch", "dinner"]))
@click.option(
    "--format", "sheet_format", default="csv", show_default=True, type=click.Choice(["csv"])
)
def routes_sheet(service_date: datetime, slot: str, sheet_format: str) -> None:
    """Every trip of the current route plan: one CSV row per stop with its box labels."""
    from meals.deliveries.commands import route_sheet_command

    settings = Settings.from_env()
    click.get_binary_stream("stdout").write(
        asyncio.run(route_sheet_command(settings, service_date=service_date.date(), slot=slot))
    )


@routes.command("escalate")
def routes_escalate() -> None:
    """Escalate welfare alerts nobody has answered in time (run it from a scheduler)."""
    from meals.deliveries.commands import escalate_command

    settings = Settings.from_env()
    count = asyncio.run(escalate_command(settings, Clock(settings.frozen_now)))
    console.print(f"{count} welfare alerts escalated")


@main.group()
def settlement() -> None:
    """Month-end settlement on meals served."""


@settlement.command("month")
@click.option("--month", required=True, help="The month, YYYY-MM.")
@click.option(
    "--format",
    "export_format",
    default="json",
    show_default=True,
    type=click.Choice(["json", "csv", "xlsx", "pdf"]),
)
@click.option("--output", type=click.Path(dir_okay=False), help="Write here instead of stdout.")
def settlement_month(month: str, export_format: str, output: str | None) -> None:
    """A month's settlement per funding source and site (frozen figures once closed)."""
    from meals.errors import DomainError
    from meals.settlement.commands import month_command

    settings = Settings.from_env()
    try:
        content = asyncio.run(month_command(settings, month=month, export_format=export_format))
    except DomainError as refusal:
        raise click.ClickException(refusal.text) from None
    if output:
        Path(output).write_bytes(content)
        console.print(f"wrote {output}")
    else:
        click.get_binary_stream("stdout").write(content)


@settlement.command("close")
@click.option("--month", required=True, help="The month, YYYY-MM (it must have ended).")
def settlement_close(month: str) -> None:
    """Close a month: freeze its figures; later corrections count in the next month."""
    from meals.errors import DomainError
    from meals.settlement.commands import close_command

    settings = Settings.from_env()
    try:
        report = asyncio.run(
            close_command(settings, month=month, now=Clock(settings.frozen_now).now())
        )
    except DomainError as refusal:
        raise click.ClickException(refusal.text) from None
    console.print(f"closed {report.label}: {report.figures['meals']} meals served")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
def serve(host: str, port: int, workers: int) -> None:
    """Serve on uvicorn with uvloop and httptools (refused with a guessable secret)."""
    import uvicorn

    from meals.ops.logs import configure_logging

    Settings.from_env()  # refuse before any worker starts
    configure_logging()

    uvicorn.run(
        "meals.app:create_served_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        access_log=False,  # the service logs every request itself, as JSON with its id
        log_config=None,
        log_level="info",
    )


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
