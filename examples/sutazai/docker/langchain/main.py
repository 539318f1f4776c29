"""LangChain chains over Ollama: POST /execute {prompt, chain_type, model?}."""

import os

from fastapi import FastAPI, HTTPException
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_ollama import ChatOllama
from pydantic import BaseModel, Field

OLLAMA_URL = os.environ["OLLAMA_URL"]
DEFAULT_MODEL = os.environ.get("DEFAULT_MODEL", "qwen2.5:3b")

CHAINS = {
    "simple": "{input}",
    "summarize": "Summarize the following text in at most five sentences:\n\n{input}",
    "sentiment": "Classify the sentiment of the following text as positive, negative or neutral, "
    "and give a one-sentence reason:\n\n{input}",
}

app = FastAPI(title="SutazAI LangChain")


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "chains": sorted(CHAINS)}


class Execute(BaseModel):
    prompt: str = Field(min_length=1)
    chain_type: str = "simple"
    model: str = DEFAULT_MODEL


@app.post("/execute")
def execute(request: Execute) -> dict:
    template = CHAINS.get(request.chain_type)
    if template is None:
        raise HTTPException(404, f"unknown chain {request.chain_type!r}; known: {', '.join(sorted(CHAINS))}")
    chain = (
        ChatPromptTemplate.from_template(template)
        | ChatOllama(model=request.model, base_url=OLLAMA_URL)
        | StrOutputParser()
    )
    return {"chain_type": request.chain_type, "model": request.model, "result": chain.invoke({"input": request.prompt})}
