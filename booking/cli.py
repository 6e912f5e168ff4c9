"""Command-line tasks: `flask --app wsgi init-db | add-closure | outbox send | worker`."""

from __future__ import annotations

import datetime as dt
import signal
import time

import click
from flask import Flask
from flask.cli import AppGroup

from booking.context import db, now, rules, state


def upgrade_database(app: Flask) -> None:
    """Create or upgrade the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from booking import ROOT

    config = AlembicConfig(str(ROOT / "migrations" / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    with state().engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _parse_time(_ctx, _param, value):
    if value is None:
        return None
    try:
        return dt.time.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter("use HH:MM") from error


def init_app(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create the database schema, or upgrade it to the newest version."""
        upgrade_database(app)
        click.echo("Database is up to date.")

    @app.cli.command("add-closure")
    @click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
    @click.option("--until", "last_day", type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="Last day closed (inclusive), for a range of days.")
    @click.option("--from", "start_time", callback=_parse_time, help="Close from this time (HH:MM).")
    @click.option("--to", "end_time", callback=_parse_time, help="Close until this time (HH:MM).")
    @click.option("--reason", required=True, help="Reason shown to visitors (English).")
    @click.option("--reason-fr")
    @click.option("--reason-nl")
    @click.option("--reason-de")
    def add_closure_command(day, last_day, start_time, end_time, reason, reason_fr, reason_nl, reason_de):
        """Close the museum on DAY (YYYY-MM-DD), all day or between --from and --to."""
        from booking.services import BookingError
        from booking.services.closures import add_closure

        try:
            closure = add_closure(
                db(), rules(), day.date(),
                {"en": reason, "fr": reason_fr, "nl": reason_nl, "de": reason_de},
                start_time=start_time, end_time=end_time, last_day=last_day.date() if last_day else None,
            )
        except BookingError as error:
            raise click.ClickException(f"Not a valid period ({error.code}).") from error
        click.echo(f"Closed from {closure.start_at.isoformat()} to {closure.end_at.isoformat()} (UTC).")

    outbox = AppGroup("outbox", help="The outgoing-mail queue.")

    @outbox.command("send")
    def outbox_send():
        """Deliver every due email once."""
        report = _deliver_all()
        click.echo(f"sent {len(report['sent'])}, retrying {len(report['retrying'])}, "
                   f"failed {len(report['failed'])}")

    app.cli.add_command(outbox)

    @app.cli.command("worker")
    @click.option("--interval", default=2.0, show_default=True, help="Seconds between passes.")
    def worker(interval):
        """Deliver the outbox as it fills, for ever (stop with Ctrl-C or SIGTERM)."""
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        click.echo("Worker started.")
        try:
            while not stopping:
                report = _deliver_all()
                if report["sent"] or report["failed"] or report["retrying"]:
                    click.echo(f"sent {len(report['sent'])}, retrying {len(report['retrying'])}, "
                               f"failed {len(report['failed'])}")
                time.sleep(interval)
        except KeyboardInterrupt:
            pass
        click.echo("Worker stopped.")


def _deliver_all() -> dict[str, list[int]]:
    """Passes over the outbox until nothing due is left or a pass makes no progress."""
    from booking.notifications import deliver

    totals: dict[str, list[int]] = {"sent": [], "retrying": [], "failed": []}
    while True:
        report = deliver(db(), now())
        for key in totals:
            totals[key] += getattr(report, key)
        if not report.sent:
            return totals
