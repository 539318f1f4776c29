"""Takes tasks off the Redis queue and writes each result to PostgreSQL (vectorize also indexes the
text in Qdrant). At most once: a task whose worker dies mid-way stays 'running'."""
import json
import logging
import pathlib
import signal

import httpx
from psycopg.types.json import Jsonb

from app.common import COLLECTION, QUEUE, VECTOR_SIZE, db, embed, qdrant, queue

HEARTBEAT = pathlib.Path("/tmp/heartbeat")  # the container's healthcheck reads its age
log = logging.getLogger("worker")


def run(task: dict) -> dict:
    text = str(task["payload"].get("text", ""))
    if task["type"] == "wordcount":
        return {"words": len(text.split()), "chars": len(text)}
    if task["type"] == "vectorize":
        url, headers = qdrant(f"/collections/{COLLECTION}/points?wait=true")
        point = {"id": task["id"], "vector": embed(text), "payload": {"text": text, "owner": task["owner"]}}
        httpx.put(url, headers=headers, json={"points": [point]}, timeout=30).raise_for_status()
        return {"indexed": task["id"], "dimensions": VECTOR_SIZE}
    raise ValueError(f"unknown task type {task['type']!r}")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        HEARTBEAT.touch()
        item = queue().brpop([QUEUE], timeout=5)  # short, so SIGTERM is honoured within Compose's grace period
        if item is None:
            continue
        task = json.loads(item[1])
        with db() as conn:
            conn.execute("UPDATE tasks SET status = 'running', started_at = now() WHERE id = %s", (task["id"],))
            try:
                outcome = run(task)
            except Exception as error:  # noqa: BLE001 - recorded on the task, the worker goes on
                log.exception("task %s failed", task["id"])
                conn.execute(
                    "UPDATE tasks SET status = 'failed', error = %s, finished_at = now() WHERE id = %s",
                    (str(error), task["id"]),
                )
            else:
                conn.execute(
                    "UPDATE tasks SET status = 'done', result = %s, finished_at = now() WHERE id = %s",
                    (Jsonb(outcome), task["id"]),
                )
                log.info("task %s done", task["id"])


if __name__ == "__main__":
    main()
