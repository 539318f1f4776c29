"""SutazAI backend: one API over Ollama, the vector stores and the agents' task queue."""

import hashlib
import json
import os
from contextlib import asynccontextmanager

import httpx
import pika
import redis
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

OLLAMA_URL = os.environ["OLLAMA_URL"]
FAISS_URL = os.environ["FAISS_URL"]
CONSUL = os.environ["CONSUL_HTTP_ADDR"]
DEFAULT_MODEL = os.environ.get("DEFAULT_MODEL", "tinyllama")
CACHE_TTL_S = 3600
AGENTS = {"langchain", "autogpt", "letta", "gpt-engineer", "finrobot", "documind"}

cache = redis.Redis.from_url(os.environ["REDIS_URL"])


def register() -> None:
    """Registers this backend in Consul with an HTTP check, so other services can find it."""
    address, port = os.environ["SERVICE_ADDRESS"], int(os.environ["SERVICE_PORT"])
    service = {
        "Name": "sutazai-backend",
        "Address": address,
        "Port": port,
        "Check": {"HTTP": f"http://{address}:{port}/health", "Interval": "15s", "Timeout": "5s"},
    }
    httpx.put(f"{CONSUL}/v1/agent/service/register", json=service, timeout=10).raise_for_status()


@asynccontextmanager
async def lifespan(_: FastAPI):
    register()
    yield


app = FastAPI(title="SutazAI backend", lifespan=lifespan)


@app.get("/health")
@app.get("/api/v1/health")
def health() -> dict:
    return {"status": "ok"}


class Chat(BaseModel):
    prompt: str = Field(min_length=1)
    model: str = DEFAULT_MODEL


@app.post("/api/v1/chat")
def chat(request: Chat) -> dict:
    key = "chat:" + hashlib.sha256(f"{request.model}\0{request.prompt}".encode()).hexdigest()
    if (hit := cache.get(key)) is not None:
        return {"model": request.model, "response": hit.decode(), "cached": True}
    answer = httpx.post(
        f"{OLLAMA_URL}/api/generate",
        json={"model": request.model, "prompt": request.prompt, "stream": False},
        timeout=300,
    )
    if answer.status_code != 200:
        raise HTTPException(502, f"ollama: {answer.status_code} {answer.text[:200]}")
    text = answer.json()["response"]
    cache.setex(key, CACHE_TTL_S, text)
    return {"model": request.model, "response": text, "cached": False}


class Task(BaseModel):
    agent: str
    payload: dict
    priority: int = Field(default=5, ge=0, le=9)


@app.post("/api/v1/tasks", status_code=202)
def submit(task: Task) -> dict:
    if task.agent not in AGENTS:
        raise HTTPException(404, f"unknown agent {task.agent!r}; known: {', '.join(sorted(AGENTS))}")
    queue = f"tasks.{task.agent}"
    connection = pika.BlockingConnection(pika.URLParameters(os.environ["RABBITMQ_URL"]))
    try:
        channel = connection.channel()
        # Priority queue, failed tasks dead-lettered to tasks.failed.
        channel.queue_declare("tasks.failed", durable=True)
        channel.queue_declare(
            queue,
            durable=True,
            arguments={"x-max-priority": 9, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "tasks.failed"},
        )
        channel.basic_publish(
            "",
            queue,
            json.dumps(task.payload).encode(),
            pika.BasicProperties(delivery_mode=2, priority=task.priority, content_type="application/json"),
        )
    finally:
        connection.close()
    return {"queued": queue}


class Search(BaseModel):
    query: str = Field(min_length=1)
    collection: str = "knowledge_base"
    k: int = Field(default=5, ge=1, le=100)


@app.post("/api/v1/vector/search")
def search(request: Search) -> dict:
    answer = httpx.post(
        f"{FAISS_URL}/collections/{request.collection}/search",
        json={"query": request.query, "k": request.k},
        timeout=60,
    )
    if answer.status_code != 200:
        raise HTTPException(answer.status_code, answer.text[:200])
    return answer.json()
