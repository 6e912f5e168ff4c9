"""The production install, tried as the museum's administrator would, on this machine.

deploy/install.sh installs into a fresh temporary prefix (its own system user, a scratch PostgreSQL
database, the local Redis), and every process runs as its systemd unit says: the unit files that
the script rendered are read for ExecStart=, User=, WorkingDirectory= and EnvironmentFile=, and
the command runs as that user with only that environment (systemd itself does not run here, so
the units' sandboxing is not applied; `systemd-analyze verify` checks the files). A real nginx
serves the rendered site on a loopback port, and a real SMTP server on loopback receives the mail.

Run by .ci/run after `make test` (it takes a few minutes): `.venv/bin/python -m pytest tests/deployment`.
It needs root, nginx, PostgreSQL on /var/run/postgresql and Redis on 127.0.0.1:6379, and fails
(never skips) without them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import http.cookiejar
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.smtp import RecordingSMTPServer, free_port, plain_text
from tests.test_delivery_crashes import wait_until

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "deploy" / "install.sh"
# The release before deploy/ existed: main's head when this branch began. The upgrade starts there.
PREVIOUS_RELEASE = "9bd70d6"
APP_USER = os.environ.get("DEPLOY_TEST_USER", "bkdeploy")
DATABASE = "booking_deploy_test"
UPGRADE_DATABASE = "booking_deploy_test_upgrade"
UNIT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FORM_ID = re.compile(r'name="form_id" type="hidden" value="([^"]+)"')
pytestmark = pytest.mark.timeout(900)  # an install from a bare prefix takes a minute or two


# --- what the administrator's host is made of -------------------------------------------------------

def read_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: {section: {key: [values, in order]}}."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def read_environment_file(path: Path) -> dict[str, str]:
    """systemd's EnvironmentFile=: KEY=value lines, comments, one pair of quotes taken off."""
    settings = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        settings[key.strip()] = value
    return settings


def edit_environment_file(path: Path, **values: str) -> None:
    """Set settings as the administrator does: change the line, or add it."""
    lines = path.read_text().splitlines()
    for key, value in values.items():
        line = f"{key}={value}"
        index = next((i for i, old in enumerate(lines) if old.startswith(f"{key}=")), None)
        if index is None:
            lines.append(line)
        else:
            lines[index] = line
    path.write_text("\n".join(lines) + "\n")


def as_postgres(*arguments: str) -> str:
    result = subprocess.run(["runuser", "-u", "postgres", "--", *arguments], cwd="/", capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def drop_database(name: str) -> None:
    as_postgres("dropdb", "--if-exists", "--force", name)


def sql(database: str, query: str) -> list[str]:
    return as_postgres("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", query).split()


@dataclass
class Process:
    """A unit's main command, started as systemd would; its stdout and stderr go to `log`."""

    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self, timeout: float = 30, how: signal.Signals = signal.SIGTERM) -> None:
        """Stop as systemd does (KillMode=control-group): signal every process of the unit and wait for
        all of them, not only the first. runuser exits once gunicorn's master has gone, and may leave a
        worker behind that still holds the listening socket and answers a request or two."""
        group = self.popen.pid
        if self.popen.poll() is None:
            os.killpg(group, how)
        deadline = time.monotonic() + timeout
        while self._group_alive(group):
            if time.monotonic() > deadline:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)
                deadline = time.monotonic() + 10
            time.sleep(0.05)
            self.popen.poll()
        self.popen.wait(10)

    @staticmethod
    def _group_alive(group: int) -> bool:
        """Whether a process of the group still runs (a zombie no longer holds a socket)."""
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone while we looked
            if fields[0] != "Z" and int(fields[2]) == group:
                return True
        return False

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Host:
    """One installation in its own temporary root: prefix, /etc/booking, units, nginx."""

    root: Path
    database: str
    http_port: int = field(default_factory=free_port)
    app_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    processes: dict[str, Process] = field(default_factory=dict)
    nginx: Process | None = None

    @classmethod
    def fresh(cls, database: str) -> Host:
        root = Path(tempfile.mkdtemp(prefix="booking-deploy-"))
        root.chmod(0o755)  # the app's user and nginx's workers walk through it, as through /srv
        host = cls(root, database)
        for folder in ("etc/nginx", "run", "log"):
            (root / folder).mkdir(parents=True)
        # The host's nginx.conf: Debian's, but for the paths (pid, logs, temp) inside the root.
        run = root / "run"
        (root / "etc/nginx/nginx.conf").write_text(f"""
user www-data;
worker_processes 1;
pid {run}/nginx.pid;
error_log {root}/log/nginx-error.log;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path {run}/body; proxy_temp_path {run}/proxy; fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
    access_log {root}/log/nginx-access.log;
    include {root}/etc/nginx/sites-enabled/*;
}}
""")
        return host

    @property
    def prefix(self) -> Path:
        return self.root / "srv/booking"

    @property
    def env_file(self) -> Path:
        return self.root / "etc/booking/booking.env"

    @property
    def units(self) -> Path:
        return self.root / "etc/systemd/system"

    @property
    def nginx_conf(self) -> Path:
        return self.root / "etc/nginx/nginx.conf"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def install(self, *options: str, source: Path | None = None) -> tuple[str, float]:
        """Run deploy/install.sh as the administrator would; returns its output and its seconds."""
        command = [str(INSTALL), "--no-system-packages", "--prefix", str(self.prefix), "--user", APP_USER,
                   "--db-name", self.database, "--server-name", "127.0.0.1", "--http-port", str(self.http_port),
                   "--https-port", str(self.https_port), "--app-bind", f"127.0.0.1:{self.app_port}",
                   "--config-dir", str(self.root / "etc/booking"), "--systemd-dir", str(self.units),
                   "--nginx-dir", str(self.root / "etc/nginx"), "--nginx-log-dir", str(self.root / "log"),
                   *(["--source", str(source)] if source else []), *options]
        started = time.monotonic()
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
        seconds = time.monotonic() - started
        output = result.stdout + result.stderr
        assert result.returncode == 0, f"install.sh failed ({result.returncode}):\n{output}"
        return output, seconds

    def unit(self, name: str) -> dict[str, dict[str, list[str]]]:
        return read_unit(self.units / name)

    def unit_command(self, name: str) -> tuple[list[str], str]:
        """The command line systemd runs for unit `name`, and its working directory."""
        service = self.unit(name)["Service"]
        (exec_start,) = service["ExecStart"]
        (user,) = service["User"]
        (workdir,) = service["WorkingDirectory"]
        environment: dict[str, str] = {}
        for path in service.get("EnvironmentFile", []):
            environment.update(read_environment_file(Path(path.lstrip("-"))))
        for assignment in service.get("Environment", []):
            for pair in shlex.split(assignment):
                key, _, value = pair.partition("=")
                environment[key] = value
        home = subprocess.run(["getent", "passwd", user], capture_output=True, text=True,
                              check=True).stdout.split(":")[5]
        command = ["runuser", "-u", user, "--", "env", "-i", UNIT_PATH, "LANG=C.UTF-8", f"HOME={home}",
                   f"USER={user}", f"LOGNAME={user}", *(f"{k}={v}" for k, v in environment.items()),
                   *shlex.split(exec_start)]
        return command, workdir

    def start(self, name: str) -> Process:
        command, workdir = self.unit_command(name)
        log = self.root / "log" / f"{name}.log"
        with open(log, "ab") as out:
            popen = subprocess.Popen(command, cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.processes[name] = Process(name, popen, log)
        return self.processes[name]

    def run_once(self, name: str) -> subprocess.CompletedProcess:
        """A Type=oneshot unit, as its timer starts it."""
        assert self.unit(name)["Service"]["Type"] == ["oneshot"]
        command, workdir = self.unit_command(name)
        return subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False, timeout=300)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            process.stop()

    def start_nginx(self) -> None:
        log = self.root / "log/nginx.out"
        with open(log, "ab") as out:
            popen = subprocess.Popen(["nginx", "-c", str(self.nginx_conf), "-g", "daemon off;"], stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.nginx = Process("nginx", popen, log)

    def stop_nginx(self) -> None:
        if self.nginx is not None:
            self.nginx.stop(15, signal.SIGQUIT)  # graceful: the workers finish their requests
        self.nginx = None

    def wait_until_served(self, url: str | None = None, context: ssl.SSLContext | None = None) -> None:
        url = url or f"{self.base_url}/fr/"
        deadline = time.monotonic() + 60
        last = None
        while time.monotonic() < deadline:
            for process in self.processes.values():
                assert process.popen.poll() is None, f"{process.name} stopped:\n{process.text()[-3000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5, context=context) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError) as error:
                last = error
            time.sleep(0.3)
        logs = "\n".join(f"--- {p.name}\n{p.text()[-3000:]}" for p in self.processes.values())
        pytest.fail(f"{url} was not served within 60 s ({last}):\n{logs}")

    def shutdown(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        self.stop_nginx()


# --- HTTP as a visitor's browser does it ------------------------------------------------------------

class Browser:
    """Cookies kept, redirects not followed (the test reads each answer)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, context: ssl.SSLContext | None = None):
        self.cookies = http.cookiejar.CookieJar()
        handlers = [urllib.request.HTTPCookieProcessor(self.cookies), self._NoRedirect()]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None,
                method: str | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def get(self, url: str, **headers) -> tuple[int, dict, bytes]:
        return self.request(url, headers=headers)

    def json(self, url: str, payload: dict) -> tuple[int, dict]:
        status, _, body = self.request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
        return status, json.loads(body)


def bookable_starts(browser: Browser, base_url: str, count: int) -> list[str]:
    """The first `count` starts with room, from the app's own availability (its clock is the system's)."""
    today = date.today()
    status, _, body = browser.get(f"{base_url}/api/availability?from={today + timedelta(days=2)}"
                                  f"&to={today + timedelta(days=40)}")
    assert status == 200, body
    starts = [slot["start"] for day in json.loads(body)["days"] if day["open"]
              for slot in day["slots"] if slot.get("bookable", True) and slot["remaining"] >= 2]
    assert len(starts) >= count, starts
    return starts[:count]


def api_book(browser: Browser, base_url: str, start: str, email: str, language: str = "fr") -> str:
    status, answer = browser.json(f"{base_url}/api/bookings", {
        "start": start, "party_size": 2, "name": "Camille Lambert", "email": email, "language": language})
    assert status == 201, answer
    return answer["reference"]


# --- the deployment ---------------------------------------------------------------------------------

def _require_the_machine() -> None:
    """What the test needs from this machine: missing, it fails (with what to install), never skips."""
    problems = []
    if os.geteuid() != 0:
        problems.append("it must run as root (install.sh creates a user and writes units)")
    for tool in ("nginx", "psql", "pg_dump", "runuser", "systemd-analyze", "openssl", "git"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} is not installed (.ci/run installs nginx)")
    if not Path("/var/run/postgresql/.s.PGSQL.5432").exists():
        problems.append("PostgreSQL does not listen on /var/run/postgresql")
    if subprocess.run(["redis-cli", "-h", "127.0.0.1", "ping"], capture_output=True, check=False).returncode:
        problems.append("Redis does not answer on 127.0.0.1:6379")
    if problems:
        pytest.fail("The deployment test cannot run here: " + "; ".join(problems))


@pytest.fixture(scope="module")
def smtp():
    server = RecordingSMTPServer().start()
    yield server
    server.stop()


def configure(host: Host, smtp: RecordingSMTPServer, public_url: str, **more: str) -> None:
    """What the administrator writes in booking.env after the install, plus what a loopback test needs."""
    edit_environment_file(host.env_file, MAIL_SERVER="127.0.0.1", MAIL_PORT=str(smtp.port),
                          PUBLIC_BASE_URL=public_url, RATELIMIT_KEY_PREFIX=f"deploy-test-{uuid.uuid4().hex[:8]}",
                          **more)


@pytest.fixture(scope="module")
def deployment(smtp):
    _require_the_machine()
    drop_database(DATABASE)
    host = Host.fresh(DATABASE)
    try:
        output, seconds = host.install()
        print(f"\ninstall.sh from a bare prefix: {seconds:.0f} s")
        host.install_output, host.install_seconds = output, seconds
        # Plain HTTP on loopback: cookies may not insist on HTTPS. The worker's heartbeat is every 2 s.
        configure(host, smtp, host.base_url, SESSION_COOKIE_SECURE="false", WORKER_HEARTBEAT_MAX_SECONDS="5")
        host.start("booking-web.service")
        host.start("booking-worker.service")
        host.start_nginx()
        host.wait_until_served()
        yield host
    finally:
        host.shutdown()
        drop_database(DATABASE)
        print(f"deployment logs (removed): {host.root}/log")
        shutil.rmtree(host.root, ignore_errors=True)


def _tree_digest(root: Path, skip: tuple[str, ...]) -> dict[str, str]:
    digest = {}
    for path in sorted(root.rglob("*")):
        relative = str(path.relative_to(root))
        if relative.startswith(skip) or path.is_dir():
            continue
        stat = path.lstat()
        content = os.readlink(path) if path.is_symlink() else hashlib.sha256(path.read_bytes()).hexdigest()
        digest[relative] = f"{stat.st_mode:o} {stat.st_uid}:{stat.st_gid} {content}"
    return digest


def test_the_install_writes_every_part_and_a_second_run_changes_nothing(deployment):
    host = deployment
    for part in ("srv/booking/current/venv/bin/gunicorn", "srv/booking/bin/booking", "etc/booking/booking.env",
                 "etc/booking/gunicorn.conf.py", "etc/nginx/sites-enabled/booking.conf"):
        assert (host.root / part).exists(), part
    catalogs = sorted((host.prefix / "current/translations").glob("*/LC_MESSAGES/messages.mo"))
    assert [path.parts[-3] for path in catalogs] == ["de", "en", "fr", "nl"]
    env_stat = host.env_file.stat()
    assert oct(env_stat.st_mode & 0o777) == "0o640" and env_stat.st_uid == 0
    settings = read_environment_file(host.env_file)
    assert len(settings["SECRET_KEY"]) >= 48
    assert settings["DATABASE_URL"] == f"postgresql:///{DATABASE}?host=/var/run/postgresql"
    assert settings["TRUSTED_PROXIES"] == "1"

    skip = ("log", "run", "srv/booking/instance", "srv/booking/backups")
    before = _tree_digest(host.root, skip)
    output, seconds = host.install()
    print(f"\ninstall.sh again: {seconds:.0f} s")
    assert "Nothing changed" in output, output
    assert _tree_digest(host.root, skip) == before
    assert read_environment_file(host.env_file)["SECRET_KEY"] == settings["SECRET_KEY"]  # never overwritten


def test_each_unit_and_the_site_pass_their_own_checker(deployment):
    host = deployment
    units = sorted(host.units.glob("booking-*"))
    assert [u.name for u in units] == ["booking-backup.service", "booking-backup.timer", "booking-purge.service",
                                       "booking-purge.timer", "booking-web.service", "booking-worker.service"]
    verify = subprocess.run(["systemd-analyze", "verify", *map(str, units)], capture_output=True, text=True,
                            check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    nginx = subprocess.run(["nginx", "-t", "-c", str(host.nginx_conf)], capture_output=True, text=True, check=False)
    assert nginx.returncode == 0, nginx.stderr
    worker = host.unit("booking-worker.service")["Unit"]
    assert worker["Wants"] == ["network-online.target"] and "network-online.target" in worker["After"][0]
    for timer in ("booking-purge.timer", "booking-backup.timer"):
        calendar = host.unit(timer)["Timer"]["OnCalendar"][0]
        check = subprocess.run(["systemd-analyze", "calendar", calendar], capture_output=True, text=True, check=False)
        assert check.returncode == 0 and "Next elapse" in check.stdout, check.stdout + check.stderr
    web = host.unit("booking-web.service")["Service"]
    assert {"NoNewPrivileges", "ProtectSystem", "PrivateTmp", "ReadWritePaths"} <= web.keys()
    assert web["ProtectSystem"] == ["strict"] and web["ReadWritePaths"] == [str(host.prefix / "instance")]


@pytest.fixture(scope="module")
def french_booking(deployment, smtp):
    """A visitor books in French through nginx with the HTML form; returns (reference, private link)."""
    host = deployment
    browser = Browser()
    start = bookable_starts(browser, host.base_url, 1)[0]
    status, _, page = browser.get(f"{host.base_url}/fr/book?start={urllib.parse.quote(start)}")
    assert status == 200, page[:500]
    page = page.decode()
    assert "Réserver" in page or "réserv" in page, page[:500]
    email = f"visiteur-{uuid.uuid4().hex[:6]}@example.be"
    form = {"csrf_token": CSRF.search(page).group(1), "form_id": FORM_ID.search(page).group(1), "start": start,
            "party_size": "2", "name": "Camille Lambert", "email": email, "consent": "y", "website": ""}
    status, headers, body = browser.request(f"{host.base_url}/fr/book", urllib.parse.urlencode(form).encode(),
                                            {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 302, body.decode()[:2000]
    location = headers["Location"]
    match = re.search(r"/b/(NMR-[A-Z0-9]+)/([A-Za-z0-9_-]+)", location)
    assert match, location

    mails = wait_until(lambda: [m for m in smtp.messages if m["To"] == email],
                       "the worker to deliver the confirmation through the SMTP server")
    return {"reference": match.group(1), "token": match.group(2), "email": email, "message": mails[0],
            "start": start}


def test_a_visitor_books_in_french_through_nginx_and_gets_a_french_email(deployment, french_booking, smtp):
    host = deployment
    status, _, home = Browser().get(f"{host.base_url}/fr/")
    assert status == 200 and "Musée national de la Résistance" in home.decode()
    assert "Visiter le musée" in home.decode()  # French from the compiled catalog, not English

    message = french_booking["message"]
    subject = message["Subject"]
    assert subject.startswith("Votre visite du ") and "est réservée" in subject, subject
    assert french_booking["reference"] in subject
    link = f"{host.base_url}/b/{french_booking['reference']}/{french_booking['token']}"
    assert link in plain_text(message)  # PUBLIC_BASE_URL is nginx's address
    status, _, page = Browser().get(link)
    assert status == 200 and "Annuler" in page.decode()

    # The JSON API too, in another language.
    browser = Browser()
    reference = api_book(browser, host.base_url, bookable_starts(browser, host.base_url, 2)[1],
                         f"besucher-{uuid.uuid4().hex[:6]}@example.de", language="de")
    mails = wait_until(lambda: [m for m in smtp.messages if reference in m["Subject"]],
                       "the email of the API booking")
    # (A long ASCII subject comes folded right after "Subject:", so it reads with a leading space.)
    assert mails[0]["Subject"].strip().startswith("Ihr Besuch am "), mails[0]["Subject"]


def test_static_files_come_from_nginx_cached_and_gzipped(deployment):
    status, headers, body = Browser().get(f"{deployment.base_url}/static/style.css", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "max-age=3600" in headers.get("Cache-Control", "") and "public" in headers["Cache-Control"]
    assert headers.get("X-Content-Type-Options") == "nosniff"
    served = gzip.decompress(body)
    assert served == (deployment.prefix / "current/static/style.css").read_bytes()


def test_a_private_link_leaves_one_app_log_line_with_its_token_redacted_and_none_in_nginx(
        deployment, french_booking):
    host = deployment
    reference, token = french_booking["reference"], french_booking["token"]
    web_log = host.processes["booking-web.service"].log
    marker = f"/b/{reference}/"
    before = [line for line in web_log.read_text().splitlines() if marker in line]
    # The page, and its stylesheet with the page (token and all) as Referer, as a browser sends it.
    link = f"{host.base_url}/b/{reference}/{token}"
    assert Browser().get(link)[0] == 200
    assert Browser().get(f"{host.base_url}/static/style.css", Referer=link)[0] == 200

    def new_lines():
        lines = [line for line in web_log.read_text().splitlines() if marker in line]
        return lines[len(before):]

    wait_until(new_lines, f"a log line of the app for {marker}… in {web_log}:\n{web_log.read_text()[-3000:]}",
               timeout=10)
    time.sleep(0.5)  # anything written late would show up now
    lines = new_lines()
    assert len(lines) == 1, lines
    assert f"GET /b/{reference}/REDACTED 200" in lines[0], lines[0]
    assert token not in web_log.read_text()

    access_log = (host.root / "log/booking.access.log").read_text()
    assert f"/b/{reference}/REDACTED" in access_log
    for log in sorted((host.root / "log").glob("*")):
        assert token not in log.read_text(errors="replace"), f"the token is in {log}"


def test_healthz_is_200_then_503_naming_the_worker_once_it_has_stopped(deployment):
    host = deployment
    status, _, body = Browser().get(f"{host.base_url}/healthz")
    assert status == 200, body[:2000]
    health = json.loads(body)
    assert health["status"] == "ok" and health["failing"] == []

    host.stop("booking-worker.service")
    try:
        def failing():
            status, _, body = Browser().get(f"{host.base_url}/healthz")
            return (status, json.loads(body)) if status == 503 else None

        status, health = wait_until(failing, "/healthz to answer 503 with the worker stopped "
                                             "(WORKER_HEARTBEAT_MAX_SECONDS=5)", timeout=30)
        assert health["status"] == "failing" and health["failing"] == ["worker"], health
        assert health["checks"]["worker"]["last_heartbeat_seconds"] > 5
    finally:
        host.start("booking-worker.service")
    wait_until(lambda: Browser().get(f"{host.base_url}/healthz")[0] == 200,
               "/healthz to come back to 200 once the worker runs again", timeout=30)


def test_the_timers_commands_run_as_their_units_would_and_a_backup_restores(deployment, french_booking):
    host = deployment
    purge = host.run_once("booking-purge.service")
    assert purge.returncode == 0, purge.stdout + purge.stderr
    assert purge.stdout.strip(), "purge-personal-data printed no summary"

    # A host that has made backups for weeks: rotation keeps the newest BACKUP_KEEP (14).
    backups = host.prefix / "backups"
    (keep,) = re.findall(r"--keep (\d+)", host.unit("booking-backup.service")["Service"]["ExecStart"][0])
    for day in range(1, int(keep) + 2):
        old = backups / f"booking-2023-01-{day:02d}T023000Z.tar"
        old.write_bytes(b"")
        os.utime(old, (1_672_000_000 + day * 86400,) * 2)
        shutil.chown(old, APP_USER, APP_USER)
    backup = host.run_once("booking-backup.service")
    assert backup.returncode == 0, backup.stdout + backup.stderr
    files = sorted(backups.glob("booking-*.tar"), key=lambda p: p.stat().st_mtime)
    assert len(files) == int(keep), [f.name for f in files]
    newest = files[-1]
    assert "2023" not in newest.name and newest.stat().st_uid != 0  # written by the app's user
    with tarfile.open(newest) as archive:
        manifest = json.loads(archive.extractfile("backup.json").read())
        assert manifest["database"] == "postgresql" and "database.dump" in archive.getnames()

    # The one documented restore, with the app stopped: a booking made after the backup goes away.
    browser = Browser()
    later = api_book(browser, host.base_url, bookable_starts(browser, host.base_url, 3)[2],
                     f"tard-{uuid.uuid4().hex[:6]}@example.be")
    assert later in sql(DATABASE, "SELECT reference FROM booking")
    host.stop("booking-web.service")
    host.stop("booking-worker.service")
    try:
        restore = subprocess.run([str(host.prefix / "bin/booking"), "restore", str(newest), "--force"],
                                 capture_output=True, text=True, check=False, cwd="/")
        assert restore.returncode == 0, restore.stdout + restore.stderr
    finally:
        host.start("booking-web.service")
        host.start("booking-worker.service")
    references = sql(DATABASE, "SELECT reference FROM booking")
    assert french_booking["reference"] in references and later not in references
    host.wait_until_served()


def test_nginx_logs_no_token_while_the_app_is_down(deployment, french_booking):
    host = deployment
    host.stop("booking-web.service")
    link = f"{host.base_url}/b/{french_booking['reference']}/{french_booking['token']}"
    assert Browser().get(link)[0] == 502
    for log in sorted((host.root / "log").glob("*")):
        assert french_booking["token"] not in log.read_text(errors="replace"), f"the token is in {log}"


# --- the upgrade ------------------------------------------------------------------------------------

def _previous_release(into: Path) -> Path:
    """The previous release's files, as `git archive` gives them (no deploy/ folder in it yet)."""
    check = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{PREVIOUS_RELEASE}^{{commit}}"],
                           capture_output=True, check=False)
    if check.returncode != 0:
        pytest.fail(f"The previous release {PREVIOUS_RELEASE} is not in {REPO}'s history "
                    "(a shallow clone? fetch it: git fetch --unshallow)")
    into.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", PREVIOUS_RELEASE], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _self_signed_certificate(folder: Path) -> Path:
    """What certbot leaves in /etc/letsencrypt/live/NAME, for 127.0.0.1 and valid for a day."""
    folder.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "privkey.pem"),
                    "-out", str(folder / "fullchain.pem")], capture_output=True, check=True)
    return folder


def test_an_upgrade_from_the_previous_release_keeps_every_booking(smtp):
    _require_the_machine()
    drop_database(UPGRADE_DATABASE)
    host = Host.fresh(UPGRADE_DATABASE)
    try:
        previous = _previous_release(host.root / "previous")
        output, seconds = host.install(source=previous)
        print(f"\ninstall.sh of the previous release {PREVIOUS_RELEASE}: {seconds:.0f} s")
        configure(host, smtp, host.base_url, SESSION_COOKIE_SECURE="false")
        old_release = os.readlink(host.prefix / "current")
        host.start("booking-web.service")
        host.start_nginx()
        host.wait_until_served()
        browser = Browser()
        starts = bookable_starts(browser, host.base_url, 4)
        booked = {api_book(browser, host.base_url, start, f"avant-{n}@example.be", language)
                  for n, (start, language) in enumerate(zip(starts, ["fr", "nl", "en", "de"], strict=True))}
        assert set(sql(UPGRADE_DATABASE, "SELECT reference FROM booking")) == booked
        host.shutdown()

        # The release procedure: the new checkout's install.sh, now with a certificate for the name.
        tls = _self_signed_certificate(host.root / "tls")
        output, seconds = host.install("--tls-dir", str(tls))
        print(f"install.sh upgrading it to this checkout (with TLS): {seconds:.0f} s")
        assert os.readlink(host.prefix / "current") != old_release
        assert "Database is up to date." in output
        edit_environment_file(host.env_file, PUBLIC_BASE_URL=f"https://127.0.0.1:{host.https_port}",
                              SESSION_COOKIE_SECURE="true")
        host.start("booking-web.service")
        host.start("booking-worker.service")
        host.start_nginx()
        context = ssl.create_default_context(cafile=str(tls / "fullchain.pem"))
        https = f"https://127.0.0.1:{host.https_port}"
        host.wait_until_served(f"{https}/fr/", context)

        assert set(sql(UPGRADE_DATABASE, "SELECT reference FROM booking")) == booked
        status, headers, _ = Browser().get(f"{host.base_url}/fr/")
        assert status == 301 and headers["Location"] == f"{https}/fr/"
        secure = Browser(context)
        status, headers, page = secure.get(f"{https}/fr/")
        assert status == 200 and "Visiter le musée" in page.decode()
        assert headers.get("Strict-Transport-Security", "").startswith("max-age=")
        status, _, body = secure.get(f"{https}/healthz")
        assert status == 200, body[:2000]
    finally:
        host.shutdown()
        drop_database(UPGRADE_DATABASE)
        shutil.rmtree(host.root, ignore_errors=True)
