#!/bin/sh
# Restore a backup of deploy/backup.sh into an EMPTY database owned by portal_owner (create it with
# `createdb -O portal_owner portal`), then give the application role its grants and check.
#   MIGRATE_DATABASE_URL=postgres://portal_owner:…@127.0.0.1/portal deploy/restore.sh portal-….dump[.gpg] [private-….tar.gz[.gpg]]
set -eu
DUMP=${1:?the portal-….dump file}
PRIVATE_ARCHIVE=${2:-}
PRIVATE=${PRIVATE_MEDIA_ROOT:-/var/lib/portal/private}
: "${MIGRATE_DATABASE_URL:?set MIGRATE_DATABASE_URL (the owner role)}"
APP_ROLE=${APP_ROLE:-portal_app}
cd "$(dirname "$0")/.."
umask 077
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
plain() {  # decrypt a .gpg file into the work directory; print the path to use
    case "$1" in
        *.gpg) out="$WORK/$(basename "$1" .gpg)"; gpg --batch --yes --decrypt --output "$out" "$1"; echo "$out" ;;
        *) echo "$1" ;;
    esac
}
DUMP=$(plain "$DUMP")
SUMS=$(dirname "$1")/SHA256SUMS-$(basename "$1" | sed -E 's/^portal-([0-9TZ]+)\..*/\1/')
[ -f "$SUMS" ] && ( cd "$(dirname "$1")" && sha256sum --check --ignore-missing "$SUMS" )
# --single-transaction: all or nothing. The tables, their rows, then the append-only triggers.
pg_restore --single-transaction --no-owner --exit-on-error --dbname="$MIGRATE_DATABASE_URL" "$DUMP"
DATABASE_URL="$MIGRATE_DATABASE_URL" .venv/bin/python manage.py grant_app_role "$APP_ROLE"
if [ -n "$PRIVATE_ARCHIVE" ]; then
    mkdir -p "$PRIVATE"
    tar -C "$PRIVATE" -xzf "$(plain "$PRIVATE_ARCHIVE")"
fi
echo "restored $1; now run: deploy/migrate.sh (applies newer migrations) and check the audit chain"
