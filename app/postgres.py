"""Live PostgreSQL checks for data sources: CDC prerequisites and table discovery."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from integrations.server import Problem

from .egress import UNREACHABLE, Egress, Refused


@dataclass(frozen=True)
class Connection:
    host: str
    address: str  # the host's address, checked by the egress policy
    port: int
    database: str
    user: str
    password: str
    schema: str = "public"


def connection_from(fields: dict[str, Any], egress: Egress) -> Connection:
    """The connection `fields` describe, its host resolved and checked against `egress` now."""
    missing = [f for f in ("host", "port", "database", "user") if not fields.get(f)]
    if missing:
        raise Problem(400, "invalid config", errors=[(f"/{f}", "required") for f in missing])
    try:
        port = int(fields["port"])
    except (TypeError, ValueError):
        raise Problem(400, "invalid config", errors=[("/port", "not a number")]) from None
    if not 0 < port < 65536:
        raise Problem(400, "invalid config", errors=[("/port", "not a TCP port")])
    host = str(fields["host"])
    try:
        address = egress.resolve(host, port)[0]
    except Refused:
        raise Problem(400, UNREACHABLE) from None
    return Connection(host, address, port, str(fields["database"]), str(fields["user"]),
                      str(fields.get("password") or ""), str(fields.get("schema") or "public"))


def connect(connection: Connection) -> Any:
    """A connection to the checked address (`hostaddr`; `host` still names the server for TLS). Failing to reach
    it reads as a refusal does; a server that answers (a wrong password, a missing database) is reported."""
    import psycopg

    try:
        return psycopg.connect(host=connection.host, hostaddr=connection.address, port=connection.port,
                               dbname=connection.database, user=connection.user, password=connection.password,
                               connect_timeout=5)
    except psycopg.OperationalError as exc:
        text = str(exc).strip()
        if "authentication failed" in text or "does not exist" in text:
            raise Problem(400, f"connection failure: {text.splitlines()[-1].strip()}") from None
        raise Problem(400, UNREACHABLE) from None
    except psycopg.Error:
        raise Problem(400, UNREACHABLE) from None


def tables(connection: Connection) -> list[dict[str, Any]]:
    """Tables of the schema with their columns and primary keys."""
    with connect(connection) as conn, conn.cursor() as cur:
        cur.execute(
            "select c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES' from information_schema.columns c "
            "join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name "
            "where c.table_schema = %s and t.table_type = 'BASE TABLE' order by c.table_name, c.ordinal_position",
            (connection.schema,),
        )
        found: dict[str, dict[str, Any]] = {}
        for table, column, data_type, nullable in cur.fetchall():
            entry = found.setdefault(table, {"table": table, "columns": [], "primary_key": []})
            entry["columns"].append({"name": column, "data_type": data_type, "is_nullable": bool(nullable)})
        cur.execute(
            "select tc.table_name, kcu.column_name from information_schema.table_constraints tc "
            "join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name "
            "and kcu.table_schema = tc.table_schema where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = %s "
            "order by kcu.ordinal_position",
            (connection.schema,),
        )
        for table, column in cur.fetchall():
            if table in found:
                found[table]["primary_key"].append(column)
        return [found[name] for name in sorted(found)]


def cdc_errors(connection: Connection, *, self_managed: bool, wanted: list[str], slot: str | None,
               publication: str | None) -> list[str]:
    """What stops logical replication (CDC) from working on this database; empty when nothing does."""
    errors: list[str] = []
    with connect(connection) as conn, conn.cursor() as cur:
        cur.execute("show wal_level")
        wal_level = cur.fetchone()[0]
        if wal_level != "logical":
            errors.append(f"wal_level must be logical (is {wal_level})")
        cur.execute("select rolreplication or rolsuper from pg_roles where rolname = current_user")
        row = cur.fetchone()
        if not row or not row[0]:
            errors.append(f"user {connection.user} needs the REPLICATION attribute")
        cur.execute("select current_setting('max_replication_slots')::int, (select count(*) from pg_replication_slots)")
        limit, used = cur.fetchone()
        if slot:
            cur.execute("select 1 from pg_replication_slots where slot_name = %s", (slot,))
            exists = cur.fetchone() is not None
            if self_managed and not exists:
                errors.append(f"replication slot {slot} does not exist")
            if not self_managed and not exists and used >= limit:
                errors.append(f"no free replication slot ({used} of {limit} used)")
        elif used >= limit:
            errors.append(f"no free replication slot ({used} of {limit} used)")
        if self_managed:
            if not publication:
                errors.append("cdc_publication_name is required when cdc_management_mode is self_managed")
            else:
                cur.execute("select 1 from pg_publication where pubname = %s", (publication,))
                if cur.fetchone() is None:
                    errors.append(f"publication {publication} does not exist")
    known = {t["table"]: t for t in tables(connection)}
    for table in wanted:
        if table not in known:
            errors.append(f"table {connection.schema}.{table} does not exist")
        elif not known[table]["primary_key"]:
            errors.append(f"table {connection.schema}.{table} has no primary key")
    return errors
