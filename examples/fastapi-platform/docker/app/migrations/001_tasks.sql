-- Tasks as the API records them and the workers finish them; each user sees only their own (owner).
CREATE TABLE tasks (
    id          uuid PRIMARY KEY,
    type        text NOT NULL,
    owner       text NOT NULL,
    payload     jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    result      jsonb,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);
CREATE INDEX tasks_owner_created ON tasks (owner, created_at DESC);
