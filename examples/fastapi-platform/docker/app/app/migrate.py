"""Applies migrations/*.sql in name order, each once (recorded in schema_migrations), then creates
the Qdrant collection if it is missing. Idempotent: it runs on every deploy."""
import pathlib

import httpx

from app.common import COLLECTION, VECTOR_SIZE, db, qdrant

MIGRATIONS = pathlib.Path(__file__).resolve().parent.parent / "migrations"
LOCK_ID = 7_204_001  # pg_advisory_lock key: one migrator at a time


def migrate_sql() -> None:
    with db() as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        applied = {row["name"] for row in conn.execute("SELECT name FROM schema_migrations")}
        for path in sorted(MIGRATIONS.glob("*.sql")):
            if path.name in applied:
                continue
            with conn.transaction():
                conn.execute(path.read_text())
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.name,))
            print(f"applied {path.name}")


def ensure_collection() -> None:
    url, headers = qdrant(f"/collections/{COLLECTION}")
    if httpx.get(url, headers=headers, timeout=10).status_code == 200:
        return
    body = {"vectors": {"size": VECTOR_SIZE, "distance": "Cosine"}}
    httpx.put(url, headers=headers, json=body, timeout=30).raise_for_status()
    print(f"created collection {COLLECTION}")


if __name__ == "__main__":
    migrate_sql()
    ensure_collection()
