#!/bin/sh
# Nightly backup (a systemd timer or cron, as the portal user): the database (pg_dump, custom format, as
# the read-only backup role) and the private files (turnover letters), encrypted for the IT Center's
# backup key (gpg), with their SHA-256, kept BACKUP_KEEP_DAYS days. Copy BACKUP_DIR off the host.
#   BACKUP_DATABASE_URL=postgres://portal_backup:…@127.0.0.1/portal BACKUP_GPG_RECIPIENT=backup@… deploy/backup.sh
set -eu
BACKUP_DIR=${BACKUP_DIR:-/var/backups/portal}
KEEP_DAYS=${BACKUP_KEEP_DAYS:-35}
PRIVATE=${PRIVATE_MEDIA_ROOT:-/var/lib/portal/private}
: "${BACKUP_DATABASE_URL:?set BACKUP_DATABASE_URL (the portal_backup role)}"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
umask 077
mkdir -p "$BACKUP_DIR"
WORK=$(mktemp -d "$BACKUP_DIR/.work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

pg_dump --format=custom --compress=6 --no-owner --no-privileges --file="$WORK/portal-$STAMP.dump" "$BACKUP_DATABASE_URL"
pg_restore --list "$WORK/portal-$STAMP.dump" >/dev/null   # the dump is readable, or the backup fails now
if [ -d "$PRIVATE" ]; then
    tar -C "$PRIVATE" -czf "$WORK/private-$STAMP.tar.gz" .
fi
for file in "$WORK"/*; do
    if [ -n "${BACKUP_GPG_RECIPIENT:-}" ]; then
        gpg --batch --yes --trust-model always --recipient "$BACKUP_GPG_RECIPIENT" --encrypt --output "$file.gpg" "$file"
        rm -f "$file"
    fi
done
( cd "$WORK" && sha256sum -- * > "SHA256SUMS-$STAMP" )
mv "$WORK"/* "$BACKUP_DIR"/
find "$BACKUP_DIR" -maxdepth 1 -type f -mtime +"$KEEP_DAYS" -delete
echo "backup $STAMP written to $BACKUP_DIR"
