#!/bin/bash
# Installs the museum's booking app on a Debian 12 host, or upgrades it to the checkout it is run
# from: system packages, the app's user, a release with its own venv and compiled catalogs, the
# PostgreSQL role and database, the schema (init-db), the environment file (once), the systemd
# units and timers, the nginx site; then (re)starts what changed. Run as root. Running it again
# with nothing new changes nothing; every choice given once is kept in CONFIG_DIR/install.conf.
#
#   sudo deploy/install.sh --server-name booking.example.org      # first install
#   sudo deploy/install.sh                                        # upgrade: from a newer checkout
#
# See README "Deploying"; deploy/install.sh --help lists the options.
set -euo pipefail
umask 022
started=$SECONDS
here=$(cd "$(dirname "$0")" && pwd)   # deploy/: templates, units, site
cd /                                  # runuser'd commands must not inherit an unreadable cwd

usage() {
  cat <<'EOF'
Usage: install.sh [options]
  --server-name NAME     the site's host name (first install; default: hostname -f)
  --source DIR           the checkout to install (default: the one this script is in)
  --prefix DIR           where code and data live (default /srv/booking)
  --user NAME            the app's system user and PostgreSQL role (default booking)
  --db-name NAME         the local PostgreSQL database (first install; default booking)
  --db-url URL           a database elsewhere instead (first install); nothing is created
  --app-bind ADDR:PORT   where gunicorn listens (first install; default 127.0.0.1:8000)
  --http-port N          nginx's plain-HTTP port (default 80)
  --https-port N         nginx's HTTPS port, once a certificate exists (default 443)
  --tls-dir DIR          fullchain.pem and privkey.pem (default /etc/letsencrypt/live/NAME)
  --upstream "A:P B:P"   the app hosts nginx proxies to (default: this host's GUNICORN_BIND)
  --backup-keep N        daily backups kept (default 14)
  --keep-releases N      releases kept for a rollback, the current one included (default 3)
  --config-dir DIR       environment file and gunicorn.conf.py (default /etc/booking)
  --systemd-dir DIR      where units go (default /etc/systemd/system)
  --nginx-dir DIR        nginx's configuration folder, with nginx.conf (default /etc/nginx)
  --nginx-log-dir DIR    the site's logs (default /var/log/nginx)
  --no-system-packages   do not apt-get install anything (they must be there already)
EOF
}

die() { echo "install.sh: $*" >&2; exit 1; }
say() { echo "==> $*"; }

# --- Options: given now, else saved by the last run, else the default -----------------------------
declare -A given=()
while [ $# -gt 0 ]; do
  case $1 in
    -h | --help) usage; exit 0 ;;
    --no-system-packages) given[SYSTEM_PACKAGES]=no; shift ;;
    --server-name | --source | --prefix | --user | --db-name | --db-url | --app-bind | --http-port | \
      --https-port | --tls-dir | --upstream | --backup-keep | --keep-releases | --config-dir | --systemd-dir | \
      --nginx-dir | --nginx-log-dir)
      [ $# -ge 2 ] || die "$1 needs a value"
      name=${1#--}; name=${name//-/_}; name=${name^^}; [ "$name" = USER ] && name=APP_USER
      given[$name]=$2; shift 2 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
[ "$(id -u)" -eq 0 ] || die "run it as root (sudo)"

CONFIG_DIR=${given[CONFIG_DIR]:-/etc/booking}
saved=$CONFIG_DIR/install.conf
# Only the choices this script wrote itself, one KEY=value a line (values quoted by printf %q).
# shellcheck source=/dev/null
[ -f "$saved" ] && source "$saved"
pick() {  # pick NAME DEFAULT: the value given, else the saved one, else DEFAULT
  local value=${given[$1]:-${!1:-$2}}
  printf -v "$1" '%s' "$value"
}
SOURCE=${given[SOURCE]:-$(dirname "$here")}  # not kept: each checkout's script installs that checkout
pick PREFIX /srv/booking
pick APP_USER booking
pick SERVER_NAME "$(hostname -f 2>/dev/null || hostname)"
pick HTTP_PORT 80
pick HTTPS_PORT 443
TLS_DIR=${given[TLS_DIR]:-/etc/letsencrypt/live/$SERVER_NAME}  # follows the server name
pick UPSTREAM ""
pick BACKUP_KEEP 14
pick KEEP_RELEASES 3
pick SYSTEMD_DIR /etc/systemd/system
pick NGINX_DIR /etc/nginx
pick NGINX_LOG_DIR /var/log/nginx
SYSTEM_PACKAGES=${given[SYSTEM_PACKAGES]:-yes}  # not kept either: a choice for this run
SOURCE=$(cd "$SOURCE" && pwd)

[[ $APP_USER =~ ^[a-z_][a-z0-9_]{0,30}$ ]] || die "--user: lower-case letters, digits and _ only"
[[ $HTTP_PORT =~ ^[0-9]+$ && $HTTPS_PORT =~ ^[0-9]+$ ]] || die "ports are numbers"
[[ $BACKUP_KEEP =~ ^[1-9][0-9]*$ && $KEEP_RELEASES =~ ^[1-9][0-9]*$ ]] || die "keep counts are numbers ≥ 1"
[[ $SERVER_NAME =~ ^[A-Za-z0-9.-]+$ ]] || die "--server-name: a host name"

ENV_FILE=$CONFIG_DIR/booking.env
INSTANCE=$PREFIX/instance
BACKUPS=$PREFIX/backups
changes=()       # what this run changed, for the summary and for what to restart
changed() { changes+=("$1"); }

# put FILE MODE OWNER <<<"$text": write stdin to FILE when it differs (a second run touches nothing).
# Not at the end of a pipe: it would run in a subshell, and `changes` would not hear of it.
put() {
  local target=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp "$target.XXXXXX")
  cat >"$tmp"
  chmod "$mode" "$tmp"; chown "$owner" "$tmp"
  if [ -f "$target" ] && cmp -s "$tmp" "$target"; then
    rm -f "$tmp"
    chmod "$mode" "$target"; chown "$owner" "$target"
    return 0
  fi
  mv -f "$tmp" "$target"
  changed "$target"
}

# render TEMPLATE: the template with every @NAME@ filled in; @HARDENING@ stands for the lines of
# systemd/hardening.conf that are not comments.
render() {
  local text hardening
  text=$(<"$1")
  hardening=$(grep -v '^#' "$here/systemd/hardening.conf")
  text=${text//@HARDENING@/"$hardening"}
  text=${text//@PREFIX@/"$PREFIX"}
  text=${text//@USER@/"$APP_USER"}
  text=${text//@CONFIG_DIR@/"$CONFIG_DIR"}
  text=${text//@INSTANCE@/"$INSTANCE"}
  text=${text//@BACKUPS@/"$BACKUPS"}
  text=${text//@BACKUP_KEEP@/"$BACKUP_KEEP"}
  text=${text//@SERVER_NAME@/"$SERVER_NAME"}
  text=${text//@HTTP_PORT@/"$HTTP_PORT"}
  text=${text//@HTTPS_PORT@/"$HTTPS_PORT"}
  text=${text//@HTTPS_PORT_SUFFIX@/"$([ "$HTTPS_PORT" = 443 ] || echo ":$HTTPS_PORT")"}
  text=${text//@TLS_DIR@/"$TLS_DIR"}
  text=${text//@LOG_DIR@/"$NGINX_LOG_DIR"}
  text=${text//@UPSTREAM_SERVERS@/"${upstream_servers:-}"}
  if LC_ALL=C grep -qE '@[A-Z_]+@' <<<"$text"; then
    die "$1: a placeholder is left: $(LC_ALL=C grep -oE '@[A-Z_]+@' <<<"$text" | head -1)"
  fi
  printf '%s\n' "$text"
}

with_systemd() { [ -d /run/systemd/system ] && [ "$SYSTEMD_DIR" = /etc/systemd/system ]; }
# run_systemctl ARGS: systemctl where systemd runs this host's units; otherwise say what it would do.
run_systemctl() {
  if with_systemd; then
    systemctl "$@"
  else
    echo "    (systemd is not running these units: skipped) systemctl $*"
  fi
}

# --- 1. System packages ---------------------------------------------------------------------------
packages=(python3-venv postgresql redis-server nginx certbot python3-certbot-nginx)
if [ "$SYSTEM_PACKAGES" = yes ]; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "Installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    changed "packages: ${missing[*]}"
  fi
fi
for tool in /usr/bin/python3 nginx psql pg_dump pg_restore runuser systemd-analyze; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install ${packages[*]})"
done
/usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || die "python3-venv is missing"

# --- 2. The app's user and folders ----------------------------------------------------------------
if ! getent passwd "$APP_USER" >/dev/null; then
  say "Creating the system user $APP_USER"
  useradd --system --user-group --home-dir "$PREFIX" --no-create-home --shell /usr/sbin/nologin "$APP_USER"
  changed "user $APP_USER"
fi
install -d -m 0755 -o root -g root "$PREFIX" "$PREFIX/releases" "$PREFIX/bin"
install -d -m 0750 -o "$APP_USER" -g "$APP_USER" "$INSTANCE" "$INSTANCE/uploads" "$INSTANCE/mail" "$BACKUPS"
install -d -m 0750 -o root -g "$APP_USER" "$CONFIG_DIR"

# --- 3. The environment file: written once, never overwritten -------------------------------------
if [ ! -f "$ENV_FILE" ]; then
  say "Writing $ENV_FILE (edit it: MAIL_SERVER at least)"
  secret=$(/usr/bin/python3 -c 'import secrets; print(secrets.token_urlsafe(48))')  # 64 characters
  database_url=${given[DB_URL]:-"postgresql:///${given[DB_NAME]:-booking}?host=/var/run/postgresql"}
  text=$(<"$here/booking.env.template")
  text=${text//@SECRET_KEY@/"$secret"}
  text=${text//@DATABASE_URL@/"$database_url"}
  text=${text//@PUBLIC_BASE_URL@/"https://$SERVER_NAME"}
  text=${text//@INSTANCE_PATH@/"$INSTANCE"}
  text=${text//@GUNICORN_BIND@/"${given[APP_BIND]:-127.0.0.1:8000}"}
  put "$ENV_FILE" 0640 "root:$APP_USER" <<<"$text"
elif [ -n "${given[DB_URL]:-}${given[DB_NAME]:-}${given[APP_BIND]:-}" ]; then
  echo "    $ENV_FILE exists: --db-url, --db-name and --app-bind change nothing; edit the file instead."
fi
chmod 0640 "$ENV_FILE"; chown "root:$APP_USER" "$ENV_FILE"
setting() {  # setting NAME: its value in the environment file ("" when unset)
  sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}
DATABASE_URL=$(setting DATABASE_URL)
bind=$(setting GUNICORN_BIND)
upstream_servers=""
for server in ${UPSTREAM:-${bind:-127.0.0.1:8000}}; do
  [[ $server =~ ^[A-Za-z0-9.:_-]+$ ]] || die "--upstream: host:port pairs, space-separated"
  upstream_servers+="    server $server;"$'\n'
done
upstream_servers=${upstream_servers%$'\n'}

# --- 4. PostgreSQL: the role (named like the user) and the database, when the database is local ---
if [[ $DATABASE_URL =~ ^postgresql:///([a-z_][a-z0-9_]*)\?host=/var/run/postgresql$ ]]; then
  database=${BASH_REMATCH[1]}
  as_postgres() { runuser -u postgres -- psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
  as_postgres -c 'SELECT 1' >/dev/null || die "PostgreSQL does not answer on /var/run/postgresql"
  if [ "$(as_postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$APP_USER'")" != 1 ]; then
    say "Creating the PostgreSQL role $APP_USER"
    as_postgres -c "CREATE ROLE \"$APP_USER\" LOGIN"
    changed "role $APP_USER"
  fi
  if [ "$(as_postgres -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" != 1 ]; then
    say "Creating the database $database"
    runuser -u postgres -- createdb --owner="$APP_USER" --encoding=UTF8 --template=template0 "$database"
    changed "database $database"
  fi
else
  echo "    DATABASE_URL names a database elsewhere: no role or database created here."
fi

# --- 5. The release: the code, its venv with the pinned requirements, compiled catalogs ------------
app_files=(booking config.py wsgi.py templates static translations migrations requirements.txt babel.cfg README.md)
for file in "${app_files[@]}"; do
  [ -e "$SOURCE/$file" ] || die "$SOURCE is not a checkout of the booking app ($file is missing)"
done
# A release is named by its content, so the same checkout installs once and a changed one anew.
release_id=$(cd "$SOURCE" && find "${app_files[@]}" -type f ! -name '*.pyc' ! -name '*.mo' \
  ! -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-12)
release=$PREFIX/releases/$release_id
if [ ! -f "$release/.complete" ]; then
  say "Building release $release_id from $SOURCE (a venv and the pinned requirements: a minute or so)"
  rm -rf "$release"
  mkdir -p "$release"
  (cd "$SOURCE" && tar --exclude=__pycache__ --exclude='*.pyc' --exclude='*.mo' -cf - "${app_files[@]}") |
    tar -C "$release" --no-same-owner -xf -
  if git -C "$SOURCE" rev-parse HEAD >/dev/null 2>&1; then
    git -C "$SOURCE" describe --always --dirty >"$release/COMMIT"
  fi
  /usr/bin/python3 -m venv "$release/venv"
  "$release/venv/bin/pip" install --quiet --disable-pip-version-check --root-user-action=ignore \
    -r "$release/requirements.txt"
  # Without them every page and email is English: they are built here, never committed.
  "$release/venv/bin/pybabel" -q compile -f -d "$release/translations"
  for po in "$release"/translations/*/LC_MESSAGES/messages.po; do
    [ -s "${po%.po}.mo" ] || die "no compiled catalog for $po"
  done
  # The app may not write its code (ProtectSystem=strict): byte-compile it now.
  "$release/venv/bin/python" -m compileall -q "$release/booking" "$release/config.py" "$release/wsgi.py" \
    "$release/migrations" >/dev/null
  chmod -R u=rwX,go=rX "$release"
  echo "$release_id" >"$release/RELEASE"
  touch "$release/.complete"
  changed "release $release_id"
fi

# --- 6. Configuration files and the command-line wrapper ------------------------------------------
put "$CONFIG_DIR/gunicorn.conf.py" 0644 root:root <"$here/gunicorn.conf.py"
text=$(render "$here/booking.sh")
put "$PREFIX/bin/booking" 0755 root:root <<<"$text"

# --- 7. The schema, by the new release, before it serves ------------------------------------------
say "Upgrading the database schema (init-db)"
BOOKING_RELEASE=$release "$PREFIX/bin/booking" init-db

previous=$(readlink "$PREFIX/current" 2>/dev/null || true)
if [ "$previous" != "releases/$release_id" ]; then
  ln -sfn "releases/$release_id" "$PREFIX/current.new"
  mv -Tf "$PREFIX/current.new" "$PREFIX/current"
  changed "current -> releases/$release_id (was ${previous:-none})"
fi

# --- 8. systemd units and timers ------------------------------------------------------------------
install -d -m 0755 "$SYSTEMD_DIR"
units=()
for template in "$here"/systemd/booking-*.service "$here"/systemd/booking-*.timer; do
  unit=$(basename "$template")
  units+=("$SYSTEMD_DIR/$unit")
  text=$(render "$template")
  put "$SYSTEMD_DIR/$unit" 0644 root:root <<<"$text"
done
systemd-analyze verify "${units[@]}" || die "systemd-analyze verify found a fault in the units above"

# --- 9. The nginx site ----------------------------------------------------------------------------
[ -f "$NGINX_DIR/nginx.conf" ] || die "$NGINX_DIR/nginx.conf is missing (is nginx installed?)"
install -d -m 0755 "$NGINX_DIR/sites-available" "$NGINX_DIR/sites-enabled" "$NGINX_LOG_DIR"
site=$(render "$here/nginx/booking.conf")
if [ -f "$TLS_DIR/fullchain.pem" ] && [ -f "$TLS_DIR/privkey.pem" ]; then
  site=$(sed 's/^#tls//' <<<"$site")
  mode="HTTPS on port $HTTPS_PORT (certificate in $TLS_DIR)"
else
  site=$(grep -v '^#tls' <<<"$site")
  mode="plain HTTP on port $HTTP_PORT (no certificate in $TLS_DIR yet)"
fi
put "$NGINX_DIR/sites-available/booking.conf" 0644 root:root <<<"$site"
if [ "$(readlink "$NGINX_DIR/sites-enabled/booking.conf" 2>/dev/null)" != ../sites-available/booking.conf ]; then
  ln -sfn ../sites-available/booking.conf "$NGINX_DIR/sites-enabled/booking.conf"
  changed "$NGINX_DIR/sites-enabled/booking.conf"
fi
nginx -t -q -c "$NGINX_DIR/nginx.conf" || die "nginx -t refuses the site $NGINX_DIR/sites-available/booking.conf"

# --- 10. Start or restart what changed ------------------------------------------------------------
text=""
for name in PREFIX APP_USER SERVER_NAME HTTP_PORT HTTPS_PORT UPSTREAM BACKUP_KEEP KEEP_RELEASES SYSTEMD_DIR \
  NGINX_DIR NGINX_LOG_DIR; do
  printf -v line '%s=%q' "$name" "${!name}"
  text+=$line$'\n'
done
put "$saved" 0644 root:root <<<"${text%$'\n'}"

if [ ${#changes[@]} -eq 0 ]; then
  say "Nothing changed: release $release_id is installed and up to date."
else
  say "Changed:"
  printf '    %s\n' "${changes[@]}"
  run_systemctl daemon-reload
  run_systemctl enable booking-web.service booking-worker.service
  run_systemctl restart booking-web.service booking-worker.service  # starts them the first time
  run_systemctl enable --now booking-purge.timer booking-backup.timer
  if with_systemd; then systemctl reload nginx; else echo "    (not this host's nginx: skipped) systemctl reload nginx"; fi
fi

# --- 11. Old releases: the newest KEEP_RELEASES stay, for a rollback ------------------------------
mapfile -t old < <(cd "$PREFIX/releases" && ls -1t --ignore="$release_id" | tail -n +"$KEEP_RELEASES")
for gone in "${old[@]}"; do
  rm -rf "${PREFIX:?}/releases/$gone"
  echo "    removed the old release $gone"
done

say "Release $release_id serves $SERVER_NAME ($mode); took $((SECONDS - started)) s."
