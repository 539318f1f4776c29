"""Streamlit dashboard: signs in through the API's OAuth2 password flow, then shows the user's tasks,
queues new ones and runs vector searches, all through the API (it holds no database credentials)."""
import os

import requests
import streamlit as st

API = os.environ["API_URL"].rstrip("/")
STATUSES = ("queued", "running", "done", "failed")

st.set_page_config(page_title="Orchestrator", layout="wide")
st.title("Orchestrator")

if "token" not in st.session_state:
    with st.form("login"):
        username = st.text_input("User")
        password = st.text_input("Password", type="password")
        if st.form_submit_button("Sign in"):
            answer = requests.post(f"{API}/login", data={"username": username, "password": password}, timeout=10)
            if answer.ok:
                st.session_state.token = answer.json()["access_token"]
                st.rerun()
            st.error("Sign-in refused")
    st.stop()


def api(method: str, path: str, **kwargs):
    headers = {"Authorization": f"Bearer {st.session_state.token}"}
    answer = requests.request(method, f"{API}{path}", headers=headers, timeout=10, **kwargs)
    if answer.status_code == 401:  # expired token: sign in again
        del st.session_state.token
        st.rerun()
    answer.raise_for_status()
    return answer.json()


with st.sidebar.form("submit"):
    kind = st.selectbox("Task", ["vectorize", "wordcount"])
    text = st.text_area("Text")
    if st.form_submit_button("Queue"):
        queued = api("POST", "/tasks/submit", json={"type": kind, "payload": {"text": text}})
        st.success(f"queued {queued['id']}")

tasks = api("GET", "/tasks", params={"limit": 100})
for column, name in zip(st.columns(len(STATUSES)), STATUSES):
    column.metric(name, sum(task["status"] == name for task in tasks))
st.dataframe(tasks, use_container_width=True)

query = st.text_input("Vector search")
if query:
    st.table(api("POST", "/vector/search", json={"text": query}))
