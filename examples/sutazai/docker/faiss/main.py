"""FAISS vector search over HTTP: add texts to a collection, search it by meaning."""

import json
import os
import re
import threading
from pathlib import Path

import faiss
import httpx
import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

OLLAMA_URL = os.environ["OLLAMA_URL"]
EMBED_MODEL = os.environ.get("EMBED_MODEL", "nomic-embed-text")
INDEX_DIR = Path(os.environ.get("INDEX_DIR", "/data"))
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

app = FastAPI(title="SutazAI FAISS")
lock = threading.Lock()


def embed(texts: list[str]) -> np.ndarray:
    answer = httpx.post(f"{OLLAMA_URL}/api/embed", json={"model": EMBED_MODEL, "input": texts}, timeout=120)
    answer.raise_for_status()
    vectors = np.asarray(answer.json()["embeddings"], dtype="float32")
    faiss.normalize_L2(vectors)  # inner product of unit vectors: cosine similarity
    return vectors


def paths(name: str) -> tuple[Path, Path]:
    if not NAME.match(name):
        raise HTTPException(400, "a collection name is lowercase letters, digits, '-' and '_'")
    return INDEX_DIR / f"{name}.faiss", INDEX_DIR / f"{name}.json"


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "collections": sorted(p.stem for p in INDEX_DIR.glob("*.faiss"))}


class Add(BaseModel):
    texts: list[str] = Field(min_length=1, max_length=1000)


@app.post("/collections/{name}/add")
def add(name: str, request: Add) -> dict:
    index_path, texts_path = paths(name)
    vectors = embed(request.texts)
    with lock:
        if index_path.exists():
            index, texts = faiss.read_index(str(index_path)), json.loads(texts_path.read_text())
        else:
            index, texts = faiss.IndexFlatIP(vectors.shape[1]), []
        if index.d != vectors.shape[1]:
            raise HTTPException(409, f"collection {name} holds {index.d}-dimensional vectors")
        index.add(vectors)
        texts.extend(request.texts)
        faiss.write_index(index, str(index_path))
        texts_path.write_text(json.dumps(texts))
    return {"collection": name, "size": index.ntotal}


class Search(BaseModel):
    query: str = Field(min_length=1)
    k: int = Field(default=5, ge=1, le=100)


@app.post("/collections/{name}/search")
def search(name: str, request: Search) -> dict:
    index_path, texts_path = paths(name)
    if not index_path.exists():
        raise HTTPException(404, f"no collection {name}")
    with lock:
        index, texts = faiss.read_index(str(index_path)), json.loads(texts_path.read_text())
    scores, ids = index.search(embed([request.query]), min(request.k, index.ntotal))
    return {"hits": [{"score": float(s), "text": texts[i]} for s, i in zip(scores[0], ids[0]) if i >= 0]}
