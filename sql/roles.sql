-- notifier's PostgreSQL roles, least privilege. Not a migration: db.py applies only
-- files named NNN_name.sql, and this one is run by an administrator, with psql.
--
--   notifier_migrator  owns notifier's tables and sequences; `notifier db upgrade`
--                      (the migration Job) connects as it. CREATE on the schema, no more.
--   notifier_app       the receiver, workers and reconcile: SELECT, INSERT, UPDATE on
--                      notifier's tables, DELETE only on dead_letters (purge) and on the
--                      derived pipeline_runs, run_members and lineage_links (rebuilt by
--                      `notifier analyze`), USAGE on the sequences; no DDL, and only
--                      SELECT on schema_migrations and the live_objects view.
--
-- Run it as a superuser (or a role with CREATEROLE that can grant on the schema),
-- connected to the audit database, before the first migration and again after each
-- migration that adds a table (it is idempotent; re-running converges):
--
--   psql "postgresql://postgres@HOST:5432/mlops_db" -v ON_ERROR_STOP=1 \
--        -v notifier_app_password="$NOTIFIER_APP_PASSWORD" \
--        -v notifier_migrator_password="$NOTIFIER_MIGRATOR_PASSWORD" \
--        -f sql/roles.sql
--
-- Passwords are never in this file: pass them as psql variables as above (each is
-- optional; a role without one keeps its current password). ALTER ROLE ... PASSWORD
-- reaches the server log if log_statement is 'ddl' or 'all'; use psql's \password
-- instead where that matters.
--
-- The tables live in schema public (the migrations create them unqualified). A table
-- of notifier's that already exists under another owner (for example, created by the
-- pipeline before notifier) is handed to notifier_migrator so migrations can alter it.

\set ON_ERROR_STOP on

-- 1. The roles, created once; their attributes re-asserted on every run.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'notifier_migrator') THEN
        CREATE ROLE notifier_migrator LOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'notifier_app') THEN
        CREATE ROLE notifier_app LOGIN;
    END IF;
END
$roles$;

ALTER ROLE notifier_migrator WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;
ALTER ROLE notifier_app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT;

\if :{?notifier_migrator_password}
ALTER ROLE notifier_migrator PASSWORD :'notifier_migrator_password';
\endif
\if :{?notifier_app_password}
ALTER ROLE notifier_app PASSWORD :'notifier_app_password';
\endif

-- 2. The database and the schema.
DO $database$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO notifier_migrator, notifier_app',
                   current_database());
END
$database$;

GRANT USAGE, CREATE ON SCHEMA public TO notifier_migrator;
GRANT USAGE ON SCHEMA public TO notifier_app;
REVOKE CREATE ON SCHEMA public FROM notifier_app;

-- 3. Tables the migrator creates from now on: row access for the application.
--    (DELETE on dead_letters, and schema_migrations and live_objects being read-only, are set per
--    table in step 4 once those tables exist.)
ALTER DEFAULT PRIVILEGES FOR ROLE notifier_migrator IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE ON TABLES TO notifier_app;
ALTER DEFAULT PRIVILEGES FOR ROLE notifier_migrator IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO notifier_app;

-- 4. notifier's tables that exist now: owner, then exactly the application's rights.
DO $tables$
DECLARE
    table_name text;
    sequence_name text;
    owned_by_migrator boolean;
BEGIN
    FOREACH table_name IN ARRAY ARRAY[
        'intake_events', 'dead_letters', 'ingestion_events', 'transformation_events',
        'training_events', 'evaluation_events', 'schema_migrations', 'live_objects',
        'pipeline_runs', 'run_members', 'lineage_links', 'anomalies', 'export_outbox'
    ] LOOP
        IF to_regclass(format('public.%I', table_name)) IS NULL THEN
            CONTINUE;
        END IF;

        SELECT c.relowner = 'notifier_migrator'::regrole INTO owned_by_migrator
        FROM pg_catalog.pg_class AS c
        WHERE c.oid = to_regclass(format('public.%I', table_name));
        IF NOT owned_by_migrator THEN
            -- Sequences owned by the table's columns (serial, identity) follow it.
            EXECUTE format('ALTER TABLE public.%I OWNER TO notifier_migrator', table_name);
        END IF;

        EXECUTE format('REVOKE ALL ON TABLE public.%I FROM notifier_app', table_name);
        IF table_name IN ('schema_migrations', 'live_objects') THEN
            EXECUTE format('GRANT SELECT ON TABLE public.%I TO notifier_app', table_name);
        ELSIF table_name IN ('dead_letters', 'pipeline_runs', 'run_members', 'lineage_links') THEN
            -- dead_letters: purge; the analysis tables: rebuilt by `notifier analyze`.
            EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE public.%I TO notifier_app',
                           table_name);
        ELSE
            EXECUTE format('GRANT SELECT, INSERT, UPDATE ON TABLE public.%I TO notifier_app',
                           table_name);
        END IF;

        FOR sequence_name IN
            SELECT s.relname
            FROM pg_catalog.pg_depend AS d
            JOIN pg_catalog.pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
            WHERE d.refobjid = to_regclass(format('public.%I', table_name))
              AND d.deptype IN ('a', 'i')
        LOOP
            EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE public.%I TO notifier_app',
                           sequence_name);
        END LOOP;
    END LOOP;
END
$tables$;
