"""The orchestration API: OAuth2 password flow issuing JWTs, tasks queued in Redis and read back
from PostgreSQL, vector search over Qdrant's HTTP API, Prometheus metrics."""
import hmac
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Annotated, Any, Literal

import httpx
import jwt
import redis
from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from app.common import COLLECTION, QUEUE, db, embed, env, qdrant, queue

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(minutes=int(env("TOKEN_TTL_MINUTES", "60")))

app = FastAPI(title="orchestrator")
oauth2 = OAuth2PasswordBearer(tokenUrl="login")
REQUESTS = Counter("api_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("api_request_seconds", "HTTP request latency", ["route"])
SUBMITTED = Counter("tasks_submitted_total", "Tasks queued", ["type"])
QUEUE_DEPTH = Gauge("tasks_queue_depth", "Tasks waiting in the Redis queue")


@app.middleware("http")
async def measure(request: Request, call_next):
    start = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")  # the route's template, not the URL: bounded labels
    REQUESTS.labels(request.method, path, str(response.status_code)).inc()
    LATENCY.labels(path).observe(time.perf_counter() - start)
    return response


@app.post("/login")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> dict[str, str]:
    user_ok = hmac.compare_digest(form.username.encode(), env("ADMIN_USERNAME", "admin").encode())
    password_ok = hmac.compare_digest(form.password.encode(), env("ADMIN_PASSWORD").encode())
    if not (user_ok and password_ok):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bad credentials", {"WWW-Authenticate": "Bearer"})
    now = datetime.now(timezone.utc)
    claims = {"sub": form.username, "iat": now, "exp": now + TOKEN_TTL}
    return {"access_token": jwt.encode(claims, env("JWT_SECRET"), algorithm=ALGORITHM), "token_type": "bearer"}


def current_user(token: Annotated[str, Depends(oauth2)]) -> str:
    try:
        return str(jwt.decode(token, env("JWT_SECRET"), algorithms=[ALGORITHM])["sub"])
    except jwt.PyJWTError as error:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid token", {"WWW-Authenticate": "Bearer"}) from error


User = Annotated[str, Depends(current_user)]


class TaskIn(BaseModel):
    type: Literal["vectorize", "wordcount"]
    payload: dict[str, Any] = Field(default_factory=dict)


class SearchIn(BaseModel):
    text: str = Field(min_length=1)
    limit: int = Field(default=5, ge=1, le=50)


@app.get("/health")
def health(response: Response) -> dict[str, str]:
    try:
        db().close()
        queue().ping()
    except Exception as error:  # noqa: BLE001 - any failure of either makes the API unready
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": type(error).__name__}
    return {"status": "ok"}


@app.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    try:
        QUEUE_DEPTH.set(queue().llen(QUEUE))
    except redis.RedisError:
        pass  # keep serving the other metrics; the stale gauge is better than a failed scrape
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@app.post("/tasks/submit", status_code=status.HTTP_202_ACCEPTED)
def submit(task: TaskIn, user: User) -> dict[str, str]:
    task_id = str(uuid.uuid4())
    with db() as conn:
        conn.execute(
            "INSERT INTO tasks (id, type, owner, payload) VALUES (%s, %s, %s, %s)",
            (task_id, task.type, user, Jsonb(task.payload)),
        )
    queue().lpush(QUEUE, json.dumps({"id": task_id, "type": task.type, "owner": user, "payload": task.payload}))
    SUBMITTED.labels(task.type).inc()
    return {"id": task_id, "status": "queued"}


@app.get("/tasks")
def recent(user: User, limit: int = 20) -> list[dict[str, Any]]:
    with db() as conn:
        return conn.execute(
            "SELECT id, type, status, created_at, finished_at FROM tasks WHERE owner = %s"
            " ORDER BY created_at DESC LIMIT %s",
            (user, max(1, min(limit, 200))),
        ).fetchall()


@app.get("/tasks/{task_id}")
def result(task_id: uuid.UUID, user: User) -> dict[str, Any]:
    with db() as conn:
        row = conn.execute("SELECT * FROM tasks WHERE id = %s AND owner = %s", (task_id, user)).fetchone()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such task")
    return row


@app.post("/vector/search")
def search(query: SearchIn, user: User) -> list[dict[str, Any]]:
    url, headers = qdrant(f"/collections/{COLLECTION}/points/search")
    body = {
        "vector": embed(query.text),
        "limit": query.limit,
        "with_payload": True,
        "filter": {"must": [{"key": "owner", "match": {"value": user}}]},
    }
    answer = httpx.post(url, headers=headers, json=body, timeout=10)
    if answer.status_code != 200:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"qdrant answered {answer.status_code}")
    return [{"id": h["id"], "score": h["score"], "text": h["payload"].get("text")} for h in answer.json()["result"]]
