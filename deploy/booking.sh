#!/bin/bash
# `booking COMMAND`: the app's command line (flask --app wsgi COMMAND) as the units run it: as the
# app's user, in the current release, with only the environment file's settings. Installed by
# deploy/install.sh as @PREFIX@/bin/booking; e.g. `@PREFIX@/bin/booking create-staff me@museum.be --admin`.
set -euo pipefail
prefix=@PREFIX@
app_user=@USER@
env_file=@CONFIG_DIR@/booking.env
release=${BOOKING_RELEASE:-$prefix/current}  # install.sh runs init-db in a new release before switching

if [ "$(id -un)" != "$app_user" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Run this as root or as $app_user." >&2
    exit 1
  fi
  exec runuser -u "$app_user" -- env BOOKING_RELEASE="$release" "$0" "$@"
fi

# systemd's EnvironmentFile=: KEY=value lines, # comments, one pair of quotes around a value removed,
# nothing expanded.
settings=()
while IFS= read -r line || [ -n "$line" ]; do
  line=${line#"${line%%[![:space:]]*}"}
  case $line in '' | '#'* | ';'*) continue ;; esac
  key=${line%%=*}
  value=${line#*=}
  if [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]]; then value=${BASH_REMATCH[1]}; fi
  settings+=("$key=$value")
done <"$env_file"

home=$(getent passwd "$app_user" | cut -d: -f6)
cd "$release"
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin LANG=C.UTF-8 HOME="$home" \
  USER="$app_user" LOGNAME="$app_user" "${settings[@]}" "$release/venv/bin/flask" --app wsgi "$@"
