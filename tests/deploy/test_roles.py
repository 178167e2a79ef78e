"""sql/roles.sql against a real PostgreSQL: idempotent, least privilege, migrations work.

Runs on the suite's PostgreSQL (tests/conftest.py ``pg_admin_url``), with psql, the way
the README runs it. Roles are cluster-wide: the tests create them in the suite's
private cluster (or the server NOTIFIER_TEST_DATABASE_URL names) and leave them there.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from notifier.db import upgrade
from tests.deploy.conftest import REPO

ROLES_SQL = REPO / "sql" / "roles.sql"
EVENT_TABLES = (
    "intake_events",
    "ingestion_events",
    "transformation_events",
    "training_events",
    "evaluation_events",
)
ALL_TABLES = (*EVENT_TABLES, "dead_letters", "schema_migrations")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def with_db(url: str, dbname: str, **overrides: str) -> str:
    params = conninfo_to_dict(url)
    params.update(dbname=dbname, **overrides)
    return make_conninfo(**params)


def run_roles_sql(url: str, **variables: str) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    if psql is None:
        pytest.fail("psql (PostgreSQL's client) is needed to run sql/roles.sql")
    args = [psql, url, "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-f", str(ROLES_SQL)]
    for name, value in variables.items():
        args += ["-v", f"{name}={value}"]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def audit_db(pg_admin_url: str) -> Iterator[str]:
    """An empty database of its own; the admin URL to it."""
    name = f"roles_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield with_db(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def migrated(audit_db: str) -> str:
    """roles.sql, twice; the migrations as notifier_migrator; roles.sql again (as the README)."""
    run_roles_sql(audit_db, notifier_app_password="app-pw", notifier_migrator_password="mig-pw")
    run_roles_sql(audit_db)
    with psycopg.connect(
        with_db(
            audit_db,
            conninfo_to_dict(audit_db)["dbname"],
            user="notifier_migrator",
            password="mig-pw",
        ),
        autocommit=True,
    ) as conn:
        assert upgrade(conn)
    run_roles_sql(audit_db)
    return audit_db


def as_role(url: str, role: str) -> psycopg.Connection[tuple[object, ...]]:
    dbname = conninfo_to_dict(url)["dbname"]
    return psycopg.connect(with_db(url, str(dbname), user=role, password="x"), autocommit=True)


def table_privileges(
    conn: psycopg.Connection[tuple[object, ...]], role: str, table: str
) -> set[str]:
    return {
        p
        for p in PRIVILEGES
        if conn.execute(
            "SELECT has_table_privilege(%s, %s, %s)", (role, f"public.{table}", p)
        ).fetchone()[0]  # type: ignore[index]
    }


def test_the_roles_are_plain_logins_with_passwords(migrated: str) -> None:
    with psycopg.connect(migrated) as admin:
        rows = admin.execute(
            "SELECT rolname, rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,"
            " rolbypassrls, rolpassword IS NOT NULL"
            " FROM pg_authid WHERE rolname LIKE 'notifier\\_%' ORDER BY rolname"
        ).fetchall()
    assert rows == [
        ("notifier_app", True, False, False, False, False, False, True),
        ("notifier_migrator", True, False, False, False, False, False, True),
    ]


def test_the_migrator_owns_every_table(migrated: str) -> None:
    with psycopg.connect(migrated) as admin:
        owners = dict(
            admin.execute(
                "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S')"
            ).fetchall()
        )
    assert set(ALL_TABLES) <= set(owners)
    assert set(owners.values()) == {"notifier_migrator"}


def test_the_app_reads_and_writes_rows_but_never_deletes_audit_rows(migrated: str) -> None:
    with psycopg.connect(migrated) as admin:
        for table in EVENT_TABLES:
            assert table_privileges(admin, "notifier_app", table) == {"SELECT", "INSERT", "UPDATE"}
        assert table_privileges(admin, "notifier_app", "dead_letters") == {
            "SELECT",
            "INSERT",
            "UPDATE",
            "DELETE",
        }
        assert table_privileges(admin, "notifier_app", "schema_migrations") == {"SELECT"}
        assert table_privileges(admin, "notifier_app", "live_objects") == {"SELECT"}
        for derived in ("pipeline_runs", "run_members", "lineage_links"):
            assert "DELETE" in table_privileges(admin, "notifier_app", derived)
        assert table_privileges(admin, "notifier_app", "anomalies") == {
            "SELECT",
            "INSERT",
            "UPDATE",
        }
        for view in ("phase_rows", "last_run_per_phase", "model_lineage", "problems"):
            assert "SELECT" in table_privileges(admin, "notifier_app", view)
        sequences = admin.execute(
            "SELECT c.relname, has_sequence_privilege('notifier_app', c.oid, 'USAGE')"
            " FROM pg_class c WHERE c.relkind = 'S'"
        ).fetchall()
    assert sequences
    assert all(usable for _, usable in sequences)


def test_the_app_cannot_change_the_schema_or_delete_audit_rows(migrated: str) -> None:
    with as_role(migrated, "notifier_app") as app:
        app.execute("INSERT INTO dead_letters (reason, body) VALUES ('test', '{}')")
        assert app.execute("DELETE FROM dead_letters").rowcount == 1
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("DELETE FROM ingestion_events")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("CREATE TABLE intruder (id int)")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("ALTER TABLE intake_events ADD COLUMN intruder int")
        with pytest.raises(errors.InsufficientPrivilege):
            app.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")


def test_rerunning_changes_nothing(migrated: str) -> None:
    def snapshot() -> list[tuple[object, ...]]:
        with psycopg.connect(migrated) as admin:
            return admin.execute(
                "SELECT c.relname, pg_get_userbyid(c.relowner), c.relacl::text FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
                " ORDER BY c.relname"
            ).fetchall()

    before = snapshot()
    run_roles_sql(migrated)
    assert snapshot() == before


def test_a_table_created_before_notifier_is_handed_to_the_migrator(audit_db: str) -> None:
    with psycopg.connect(audit_db, autocommit=True) as admin:
        admin.execute("CREATE TABLE ingestion_events (id bigserial PRIMARY KEY, estado text)")
    run_roles_sql(audit_db)
    with psycopg.connect(audit_db) as admin:
        owners = admin.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c"
            " WHERE c.relname LIKE 'ingestion_events%' ORDER BY 1"
        ).fetchall()
        assert owners == [
            ("ingestion_events", "notifier_migrator"),
            ("ingestion_events_id_seq", "notifier_migrator"),
            ("ingestion_events_pkey", "notifier_migrator"),
        ]
        assert table_privileges(admin, "notifier_app", "ingestion_events") == {
            "SELECT",
            "INSERT",
            "UPDATE",
        }


def test_no_password_is_written_in_the_file() -> None:
    text = ROLES_SQL.read_text()
    assert "PASSWORD '" not in text.upper()
    assert "PASSWORD :'notifier_app_password'" in text
