"""Command-line tasks: `flask --app wsgi init-db | add-closure | run-jobs | outbox send | worker`."""

from __future__ import annotations

import datetime as dt
import signal
import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from booking import schedule
from booking.context import db, now, rules, state
from booking.models import StaffUser


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


@click.command("init-db")
@with_appcontext
def init_db():
    """Create the database schema, or upgrade it to the newest version; a new database also gets
    the default roster of two guides, for staff to rename."""
    from booking.services.roster import add_default_guides

    upgrade_database(current_app)
    click.echo("Database is up to date.")
    added = add_default_guides(db(), now())
    if added:
        names = ", ".join(f"{guide.name} ({', '.join(guide.languages)})" for guide in added)
        click.echo(f"Added the default guides: {names}. Rename them, or add your own, "
                   f"at {current_app.config['PUBLIC_BASE_URL']}/staff/capacity#guides.")


@click.command("add-closure")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--until", "last_day", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Last day closed (inclusive), for a range of days.")
@click.option("--from", "start_time", callback=_parse_time, help="Close from this time (HH:MM).")
@click.option("--to", "end_time", callback=_parse_time, help="Close until this time (HH:MM).")
@click.option("--reason", required=True, help="Reason shown to visitors (English).")
@click.option("--reason-fr")
@click.option("--reason-nl")
@click.option("--reason-de")
@with_appcontext
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


@click.command("create-staff")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Make an administrator.")
@click.option("--name", default="", help="The person's name.")
@with_appcontext
def create_staff_command(email, admin, name):
    """Create a staff account and print its generated password."""
    from booking.services import BookingError
    from booking.services.staff import create_staff, generate_password

    password = generate_password()
    try:
        create_staff(db(), email, password, role="admin" if admin else "staff", name=name)
    except BookingError as error:
        raise click.ClickException(f"Could not create {email} ({error.code}).") from error
    click.echo(f"Created {'admin' if admin else 'staff'} account {email.strip().lower()}")
    click.echo(f"Password: {password}")


@click.command("add-guide")
@click.argument("name")
@click.option("--languages", required=True, help="Languages the guide gives tours in, e.g. fr,nl,en.")
@click.option("--email", default=None, help="Where the guide is told of their tours (optional).")
@click.option("--language", default="fr", type=click.Choice(["fr", "nl", "en", "de"]),
              help="The language of the guide's emails and page.")
@with_appcontext
def add_guide_command(name, languages, email, language):
    """Add a guide to the roster."""
    from booking.services import BookingError
    from booking.services.roster import add_guide
    from booking.tour_rules import TOUR_LANGUAGES

    codes = [code.strip().lower() for code in languages.split(",") if code.strip()]
    unknown = [code for code in codes if code not in TOUR_LANGUAGES]
    if unknown or not codes:
        raise click.BadParameter(f"use codes among {', '.join(TOUR_LANGUAGES)}", param_hint="--languages")
    try:
        # Audited with no member of staff: the command line.
        guide = add_guide(db(), now(), None, name, codes, email=email, language=language)
    except BookingError as error:
        raise click.ClickException(f"Could not add {name.strip()} ({error.code}).") from error
    click.echo(f"Added guide {guide.name} ({', '.join(guide.languages)}).")


@click.command("guide-link")
@click.argument("name")
@with_appcontext
def guide_link_command(name):
    """Print a guide's private link (their tours, their unavailability, their calendar feed)."""
    from booking.links import guide_calendar_url, guide_url
    from booking.services.guides import find_guide_by_name

    guide = find_guide_by_name(db(), name)
    if guide is None:
        raise click.ClickException(f"No guide is called {name.strip()}.")
    click.echo(guide_url(guide))
    click.echo(f"Calendar feed: {guide_calendar_url(guide)}")


@click.command("seed-demo")
@with_appcontext
def seed_demo():
    """Development data: a demo staff account (printed). init-db adds the default guides."""
    from booking.services.staff import create_staff, generate_password

    session = db()
    login_file = Path(current_app.instance_path) / "demo-staff.txt"
    if session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 0:
        password = generate_password()
        create_staff(session, "staff@example.org", password, role="admin", name="Demo staff")
        login_file.write_text(f"staff@example.org {password}\n")
        login_file.chmod(0o600)
    if login_file.exists():
        email, password = login_file.read_text().split()
        click.echo(f"Staff sign-in: {current_app.config['PUBLIC_BASE_URL']}/staff/  {email} / {password}")


@click.command("run-jobs")
@click.option("--now", "as_of", help="Run as of this time (ISO 8601; Brussels time without offset).")
@with_appcontext
def run_jobs_command(as_of):
    """Run every due job once (proposal expiry, reminders), then deliver the emails they queued."""
    moment = _as_of(as_of)
    for name, done in run_jobs(moment):
        click.echo(_job_line(name, done))
    # As of --now when it is later than the clock (tests, rehearsals), so its emails are due.
    report = _deliver_all(max(moment, now()))
    click.echo(f"emails: sent {len(report['sent'])}, retrying {len(report['retrying'])}, "
               f"failed {len(report['failed'])}")


outbox = AppGroup("outbox", help="The outgoing-mail queue.")


@outbox.command("send")
def outbox_send():
    """Deliver every due email once."""
    report = _deliver_all()
    click.echo(f"sent {len(report['sent'])}, retrying {len(report['retrying'])}, "
               f"failed {len(report['failed'])}")


@click.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between passes over the outbox.")
@with_appcontext
def worker(interval):
    """Deliver the outbox as it fills and run the due jobs every WORKER_INTERVAL_SECONDS, for ever.

    Stop it with Ctrl-C or SIGTERM. Several workers may run at once: each job and each email is
    claimed by one of them.
    """
    from booking.services.health import beat
    from booking.startup import StartupRefused, check_schema

    try:
        check_schema(state().engine)
    except StartupRefused as refusal:
        raise click.ClickException(str(refusal)) from None
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    jobs_every = float(current_app.config["WORKER_INTERVAL_SECONDS"])
    next_jobs = next_beat = time.monotonic()
    click.echo("Worker started.")
    try:
        while not stopping:
            if time.monotonic() >= next_beat:  # for /healthz: at most once a second
                next_beat = time.monotonic() + 1.0
                beat(db(), now())
            if time.monotonic() >= next_jobs:
                next_jobs = time.monotonic() + jobs_every
                for name, done in run_jobs(now()):
                    if done:
                        click.echo(_job_line(name, done))
            report = _deliver_all()
            if report["sent"] or report["failed"] or report["retrying"]:
                click.echo(f"sent {len(report['sent'])}, retrying {len(report['retrying'])}, "
                           f"failed {len(report['failed'])}")
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo("Worker stopped.")


@click.command("purge-personal-data")
@click.option("--now", "as_of", help="Run as of this time (ISO 8601; Brussels time without offset).")
@with_appcontext
def purge_personal_data_command(as_of):
    """Anonymise visits that ended more than RETENTION_DAYS days ago, with their emails."""
    moment = _as_of(as_of)
    click.echo(purge_personal_data(moment).summary())


@click.command("backup")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write booking-<UTC time>.tar in this folder instead of PATH.")
@click.option("--keep", type=int, help="With --dir: then keep only the newest KEEP backups there.")
@with_appcontext
def backup_command(path, directory, keep):
    """Write the database and the uploaded images to one tar file, while the app runs."""
    from booking import backup

    if (path is None) == (directory is None) or (keep is not None and directory is None):
        raise click.UsageError("give PATH, or --dir DIR [--keep N]")
    try:
        if path is not None:
            click.echo(backup.create_backup(state().engine.url, path, _uploads()))
            return
        done, removed = backup.backup_into(directory, keep, state().engine.url, _uploads())
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(done + (f" Removed {len(removed)} older: {', '.join(p.name for p in removed)}." if removed else ""))


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything in a database that is not empty.")
@with_appcontext
def restore_command(archive, force):
    """Put back the database and the uploaded images of a backup, then upgrade the schema.
    Stop the app and the worker first."""
    from booking import backup

    try:
        click.echo(backup.restore_backup(state().engine, archive, _uploads(), force=force))
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    upgrade_database(current_app)
    click.echo("Database is up to date.")


def _uploads() -> Path:
    from booking.views.staff.whatson import upload_dir

    return upload_dir()


def init_app(app: Flask) -> None:
    """Register the commands on `app`."""
    for command in (init_db, add_closure_command, create_staff_command, add_guide_command, guide_link_command,
                    seed_demo, run_jobs_command,
                    outbox, worker, purge_personal_data_command, backup_command, restore_command):
        app.cli.add_command(command)


def _as_of(text: str | None) -> dt.datetime:
    """The moment a command's --now names (Brussels time), or the clock's when it names none."""
    if not text:
        return now()
    try:
        return schedule.parse_start(text, rules())
    except ValueError as error:
        raise click.BadParameter("use ISO 8601, e.g. 2027-03-01T08:00", param_hint="--now") from error


def _job_line(name: str, done: list[str]) -> str:
    return f"{name}: {len(done)}" + (f" ({', '.join(done)})" if done else "")


def run_jobs(moment: dt.datetime) -> list[tuple[str, list[str]]]:
    """Every due job, once, as of `moment`: (job, references of what it did), in the order run.

    Each job claims its rows one by one, so two runs at once (cron and a worker) never do a thing twice.
    """
    from booking.context import policy
    from booking.services.reminders import ReminderRules, send_tour_reminders, send_visit_reminders
    from booking.services.tours import expire_proposals
    from booking.services.waitlist import run_waitlist_jobs

    settings = policy()
    reminder_rules = ReminderRules.from_config(current_app.config)
    jobs = [
        ("expired proposals", expire_proposals(db(), settings, moment)),
        ("visit reminders", send_visit_reminders(db(), reminder_rules, moment)),
        ("tour reminders", send_tour_reminders(db(), reminder_rules, settings.tour_rules, moment)),
    ]
    jobs += [(f"waiting list, {name}", done) for name, done in run_waitlist_jobs(db(), rules(), moment).items()]
    jobs.append(("erased on request", _finish_erasures(moment)))
    return jobs


def _finish_erasures(moment: dt.datetime) -> list[str]:
    """Visitors' erasures held back by an email that has gone out (or failed) since."""
    from booking.services.privacy import finish_erasures

    return finish_erasures(db(), moment, Path(current_app.config["MAIL_FILE_DIR"])).references


def _deliver_all(moment: dt.datetime | None = None) -> dict[str, list[int]]:
    """Passes over the outbox until nothing due is left or a pass makes no progress."""
    from booking.notifications import deliver

    totals: dict[str, list[int]] = {"sent": [], "retrying": [], "failed": []}
    while True:
        report = deliver(db(), moment or now())
        for key in totals:
            totals[key] += getattr(report, key)
        if not report.sent:
            return totals


def purge_personal_data(moment: dt.datetime):
    """The privacy purge as of `moment` (also a job for run-jobs); returns its PurgeReport."""
    from flask import current_app

    from booking.services.privacy import purge_personal_data as purge

    config = current_app.config
    return purge(db(), rules(), moment, config["RETENTION_DAYS"], Path(config["MAIL_FILE_DIR"]))
