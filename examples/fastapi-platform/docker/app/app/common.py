"""What the API, the workers and the migrations share: settings, connections, the embedding."""
import functools
import hashlib
import math
import os

import psycopg
import redis
from psycopg.rows import dict_row

QUEUE = "tasks:queue"
COLLECTION = "documents"
VECTOR_SIZE = 256


def env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise RuntimeError(f"{name} is not set")
    return value


def db() -> psycopg.Connection:
    # libpq reads PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE from the environment.
    return psycopg.connect("", autocommit=True, row_factory=dict_row)


@functools.cache
def queue() -> redis.Redis:
    port = int(env("REDIS_PORT", "6379"))
    return redis.Redis(host=env("REDIS_HOST"), port=port, password=env("REDIS_PASSWORD"), decode_responses=True)


def qdrant(path: str) -> tuple[str, dict[str, str]]:
    """URL and headers of a Qdrant HTTP API call."""
    return env("QDRANT_URL").rstrip("/") + path, {"api-key": env("QDRANT_API_KEY")}


def embed(text: str) -> list[float]:
    """Feature hashing: deterministic and dependency-free, enough to exercise the vector store.
    Replace it with a real embedding model for meaningful similarity."""
    vector = [0.0] * VECTOR_SIZE
    for token in text.lower().split():
        digest = hashlib.sha256(token.encode()).digest()
        index = int.from_bytes(digest[:4], "big") % VECTOR_SIZE
        vector[index] += 1.0 if digest[4] % 2 == 0 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]
