"""FinRobot: POST /analyze {task} runs its Market_Analyst agent to the end and returns the transcript."""

import contextlib
import io
import os

from fastapi import FastAPI
from finrobot.agents.workflow import SingleAssistant
from pydantic import BaseModel, Field

LLM_CONFIG = {
    "config_list": [
        {"model": os.environ.get("MODEL", "qwen2.5:3b"), "base_url": f"{os.environ['OLLAMA_URL']}/v1", "api_key": "ollama"}
    ],
    "timeout": 300,
    "temperature": 0,
}

app = FastAPI(title="SutazAI FinRobot")


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


class Analyze(BaseModel):
    task: str = Field(min_length=1)


@app.post("/analyze")
def analyze(request: Analyze) -> dict:
    assistant = SingleAssistant("Market_Analyst", LLM_CONFIG, human_input_mode="NEVER")
    transcript = io.StringIO()
    with contextlib.redirect_stdout(transcript):
        assistant.chat(request.task)
    return {"transcript": transcript.getvalue()}
