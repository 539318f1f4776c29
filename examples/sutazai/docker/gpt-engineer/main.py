"""GPT-Engineer jobs: POST /projects {prompt} starts one, GET /projects/{id} tells its state and files."""

import os
import subprocess
import uuid
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI, HTTPException
from pydantic import BaseModel, Field

PROJECTS = Path(os.environ.get("PROJECTS_DIR", "/projects"))
MODEL = os.environ.get("MODEL", "deepseek-coder:6.7b")
TIMEOUT_S = 1800

app = FastAPI(title="SutazAI GPT-Engineer")


@app.get("/health")
def health() -> dict:
    return {"status": "ok", "model": MODEL}


class Project(BaseModel):
    prompt: str = Field(min_length=1)


def run(project: Path) -> None:
    # --lite: no clarifying questions; "n": do not execute the generated code in this container.
    with open(project / "gpte.log", "w") as log:
        result = subprocess.run(
            ["gpte", str(project), "--lite"],
            input="n\n",
            text=True,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=TIMEOUT_S,
            env={**os.environ, "MODEL_NAME": MODEL, "LOCAL_MODEL": "true"},
        )
    (project / "exit-status").write_text(str(result.returncode))


@app.post("/projects", status_code=202)
def create(request: Project, background: BackgroundTasks) -> dict:
    project_id = uuid.uuid4().hex[:12]
    project = PROJECTS / project_id
    project.mkdir(parents=True)
    (project / "prompt").write_text(request.prompt)
    background.add_task(run, project)
    return {"id": project_id}


@app.get("/projects/{project_id}")
def status(project_id: str) -> dict:
    project = PROJECTS / project_id
    if not project_id.isalnum() or not project.is_dir():
        raise HTTPException(404, f"no project {project_id}")
    done = project / "exit-status"
    files = sorted(str(p.relative_to(project)) for p in project.rglob("*") if p.is_file())
    return {"id": project_id, "done": done.exists(), "exit_status": int(done.read_text()) if done.exists() else None, "files": files}
