-- PostgreSQL roles of the portal, run once by a superuser:
--   sudo -u postgres psql -v owner_password="'…'" -v app_password="'…'" -v backup_password="'…'" -f deploy/postgres/roles.sql
-- portal_owner owns the tables and runs the migrations (deploy/migrate.sh); the portal itself connects
-- as portal_app, which owns nothing, so it cannot drop or disable the append-only triggers, and has no
-- UPDATE, DELETE or TRUNCATE on the append-only tables (audit_securityevent, lookups_lookuprecord and any
-- later table made append-only by audit.operations.MakeAppendOnly): `manage.py grant_app_role portal_app`,
-- run by migrate.sh after every migrate, finds them by their trigger and revokes those rights.
-- portal_backup may only read (pg_dump, deploy/backup.sh).

CREATE ROLE portal_owner LOGIN PASSWORD :owner_password;
CREATE ROLE portal_app LOGIN PASSWORD :app_password;
CREATE ROLE portal_backup LOGIN PASSWORD :backup_password;
-- The application role gets what it needs per statement, never the owner's rights by inheritance.
ALTER ROLE portal_app SET statement_timeout = '30s';
ALTER ROLE portal_app SET idle_in_transaction_session_timeout = '60s';

CREATE DATABASE portal OWNER portal_owner ENCODING 'UTF8' TEMPLATE template0;
\connect portal
-- Only the owner creates objects in the schema; nobody else by default.
REVOKE ALL ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO portal_owner;
GRANT USAGE ON SCHEMA public TO portal_app, portal_backup;
-- The accent-insensitive search (accounts migration 0003) needs unaccent; trusted since PostgreSQL 13,
-- created here so that the owner need not be a superuser.
CREATE EXTENSION IF NOT EXISTS unaccent;
-- Tables the owner creates later are usable by the application at once (grant_app_role then takes the
-- append-only ones back to SELECT, INSERT) and readable by the backup role.
ALTER DEFAULT PRIVILEGES FOR ROLE portal_owner IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO portal_app;
ALTER DEFAULT PRIVILEGES FOR ROLE portal_owner IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO portal_app;
ALTER DEFAULT PRIVILEGES FOR ROLE portal_owner IN SCHEMA public GRANT SELECT ON TABLES TO portal_backup;
ALTER DEFAULT PRIVILEGES FOR ROLE portal_owner IN SCHEMA public GRANT SELECT ON SEQUENCES TO portal_backup;
