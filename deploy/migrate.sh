#!/bin/sh
# A release on one host (the others only restart): migrations as the owner role, the application
# role's grants (append-only tables: SELECT and INSERT only), static files, messages; then the check.
#   sudo -u portal deploy/migrate.sh          (from /srv/portal, with /etc/portal/portal.env)
set -eu
cd "$(dirname "$0")/.."
set -a; . /etc/portal/portal.env; set +a
PY=.venv/bin/python
APP_ROLE=$(printf '%s' "$DATABASE_URL" | sed -E 's#^[a-z]+://([^:@/]+).*#\1#')
DATABASE_URL="$MIGRATE_DATABASE_URL" $PY manage.py migrate --noinput
# The months ahead of the partitioned lookup records are tables the owner creates (the application
# role may not CREATE in the schema); grant_app_role then covers them too.
DATABASE_URL="$MIGRATE_DATABASE_URL" $PY manage.py audit_partitions
DATABASE_URL="$MIGRATE_DATABASE_URL" $PY manage.py grant_app_role "$APP_ROLE"
$PY manage.py collectstatic --noinput -v 0
$PY manage.py compilemessages --ignore=.venv -v 0
$PY manage.py check --deploy --fail-level WARNING
$PY manage.py check_deployment
