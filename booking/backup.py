"""Backups: one tar file holding a consistent copy of the database and the uploaded images, their
rotation in a folder, and the restore that puts both back."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 (runs pg_dump and pg_restore, with no shell)
import tarfile
import tempfile
from pathlib import Path

import sqlalchemy as sa

FORMAT = 1
MANIFEST = "backup.json"
UPLOADS = "uploads"
DATABASE_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
# What `backup --dir` names its files: the UTC time sorts them, rotation counts only these.
NAME_PREFIX, NAME_SUFFIX = "booking-", ".tar"


class BackupError(Exception):
    """A backup or a restore that cannot be done, said in one sentence for the administrator."""


def create_backup(url: sa.URL, path: Path, uploads: Path) -> str:
    """Write the database and the uploaded images to the tar file `path`; returns what was done.

    The database is copied first and the images after: an image is stored before the row that
    names it is committed, so every image the copy names is on disk when the folder is read.
    """
    path = path.resolve()
    backend = url.get_backend_name()
    if backend not in DATABASE_MEMBER:
        raise BackupError(f"No backup for {backend} databases.")
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as work:
        copy = Path(work) / DATABASE_MEMBER[backend]
        if backend == "sqlite":
            _copy_sqlite(url, copy)
        else:
            _pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={copy}"])
        images = sorted(p for p in uploads.iterdir() if p.is_file()) if uploads.is_dir() else []
        manifest = {"format": FORMAT, "database": backend, "schema": _schema_revision(url, copy),
                    "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "uploads": len(images)}
        with tarfile.open(partial, "w") as archive:
            _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
            archive.add(copy, DATABASE_MEMBER[backend])
            for image in images:
                archive.add(image, f"{UPLOADS}/{image.name}")
    os.replace(partial, path)
    return f"Backed up the {backend} database and {len(images)} uploaded images to {path}."


def backup_into(directory: Path, keep: int | None, url: sa.URL, uploads: Path) -> tuple[str, list[Path]]:
    """A new backup in `directory`, named by the UTC time; then only the newest `keep` are kept
    (all of them with None). Old ones go only once the new one is complete, so a failing backup
    removes nothing."""
    if keep is not None and keep < 1:
        raise BackupError("--keep must be at least 1.")
    directory.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%SZ")
    path = directory / f"{NAME_PREFIX}{stamp}{NAME_SUFFIX}"
    serial = 1
    while path.exists():  # two in the same second
        serial += 1
        path = directory / f"{NAME_PREFIX}{stamp}-{serial}{NAME_SUFFIX}"
    done = create_backup(url, path, uploads)
    return done, rotate(directory, keep) if keep else []


def rotate(directory: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` backups that `backup --dir` wrote in `directory`."""
    backups = sorted((p for p in directory.glob(f"{NAME_PREFIX}*{NAME_SUFFIX}") if p.is_file()),
                     key=lambda p: (p.stat().st_mtime_ns, p.name))
    removed = backups[:-keep]
    for old in removed:
        old.unlink()
    return removed


def restore_backup(engine: sa.Engine, archive_path: Path, uploads: Path, force: bool = False) -> str:
    """Put the database and the images of a backup back; refuses a database that already holds
    tables unless `force`, which replaces everything in it. The app must be stopped meanwhile."""
    backend = engine.url.get_backend_name()
    with _open(archive_path) as archive:
        manifest = _manifest(archive, archive_path)
        if manifest["database"] != backend:
            raise BackupError(f"{archive_path} holds a {manifest['database']} database; "
                              f"DATABASE_URL names a {backend} one.")
        tables = sa.inspect(engine).get_table_names()
        engine.dispose()
        if tables and not force:
            raise BackupError(f"The database {engine.url.database} already holds {len(tables)} tables: restore "
                              "into an empty database, or add --force to replace everything in it.")
        with tempfile.TemporaryDirectory(prefix="booking-restore-") as work:
            copy = Path(work) / DATABASE_MEMBER[backend]
            _extract(archive, DATABASE_MEMBER[backend], copy)
            if backend == "sqlite":
                _replace_sqlite(engine.url, copy)
            else:
                _empty_postgres(engine, tables)
                _pg("pg_restore", engine.url, ["--no-owner", "--no-privileges", "--exit-on-error",
                                               "--single-transaction", str(copy)])
        images = [m for m in archive.getmembers() if m.name.startswith(f"{UPLOADS}/")]
        uploads.mkdir(parents=True, exist_ok=True)
        for member in images:
            _extract(archive, member.name, uploads / Path(member.name).name)
    return (f"Restored the {backend} database of {manifest['created']} (schema {manifest['schema']}) "
            f"and {len(images)} uploaded images into {uploads}.")


def _open(archive_path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive_path, "r")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{archive_path} is not a backup this app wrote ({error}).") from error


def _manifest(archive: tarfile.TarFile, archive_path: Path) -> dict:
    try:
        manifest = json.loads(archive.extractfile(MANIFEST).read())
    except (KeyError, AttributeError, ValueError) as error:
        raise BackupError(f"{archive_path} is not a backup this app wrote (no {MANIFEST}).") from error
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} is a backup of format {manifest.get('format')}; "
                          f"this release reads format {FORMAT}.")
    return manifest


def _extract(archive: tarfile.TarFile, name: str, target: Path) -> None:
    """One regular file of the archive to `target`, by name: no path in an archive is trusted to
    say where a file goes (an image's name is only its last part)."""
    member = archive.getmember(name)
    if not member.isfile() or (name.startswith(f"{UPLOADS}/") and not Path(name).name.strip(".")):
        raise BackupError(f"The backup holds {name!r}, which is not a file it wrote.")
    partial = target.with_name(target.name + ".partial")
    with archive.extractfile(member) as source, open(partial, "wb") as out:
        shutil.copyfileobj(source, out)
    os.replace(partial, target)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(dt.datetime.now(dt.UTC).timestamp()), 0o644
    archive.addfile(info, io.BytesIO(data))


def _sqlite_path(url: sa.URL) -> str:
    path = url.database
    if not path or path == ":memory:":
        raise BackupError(f"No SQLite database file in {url}.")
    return path


def _copy_sqlite(url: sa.URL, target: Path) -> None:
    """SQLite's online backup API: one consistent snapshot even while requests write."""
    source_path = _sqlite_path(url)
    if not Path(source_path).exists():
        raise BackupError(f"No SQLite database file at {source_path!r}.")
    source = sqlite3.connect(source_path, timeout=30)
    copy = sqlite3.connect(target)
    try:
        with copy:
            source.backup(copy)  # all pages in one step
    finally:
        copy.close()
        source.close()


def _replace_sqlite(url: sa.URL, copy: Path) -> None:
    target = Path(_sqlite_path(url))
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(copy, partial)
    for journal in ("-wal", "-shm"):  # they belong to the database being replaced
        target.with_name(target.name + journal).unlink(missing_ok=True)
    os.replace(partial, target)


def _empty_postgres(engine: sa.Engine, tables: list[str]) -> None:
    """Drop every table first (not pg_restore --clean, which drops only what the dump holds), so a
    newer release's tables cannot survive beside an older backup's schema version."""
    if not tables:
        return
    with engine.begin() as connection:
        for table in tables:
            connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    engine.dispose()


def _schema_revision(url: sa.URL, copy: Path) -> str | None:
    """The Alembic revision of the copy (for SQLite read from the copy itself)."""
    engine = sa.create_engine(f"sqlite:///{copy}" if url.get_backend_name() == "sqlite" else url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def _pg(program: str, url: sa.URL, arguments: list[str]) -> None:
    """Run pg_dump or pg_restore on the database `url` names (a password goes by environment)."""
    libpq_url = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} is not installed here (Debian: apt-get install postgresql-client).")
    env = dict(os.environ, **({"PGPASSWORD": url.password} if url.password else {}))
    result = subprocess.run([executable, *arguments, f"--dbname={libpq_url}"], env=env,  # noqa: S603
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{program} failed: {result.stderr.strip()}")
