"""SutazAI UI: chat with the platform's models and search the knowledge base, through Kong."""

import os

import requests
import streamlit as st

API = os.environ["API_URL"]

st.set_page_config(page_title="SutazAI", layout="wide")
st.title("SutazAI")

chat_tab, search_tab = st.tabs(["Chat", "Knowledge base"])

with chat_tab:
    model = st.selectbox("Model", ["tinyllama", "qwen2.5:3b", "deepseek-coder:6.7b"])
    prompt = st.text_area("Prompt")
    if st.button("Send", disabled=not prompt.strip()):
        with st.spinner("Thinking..."):
            answer = requests.post(f"{API}/chat", json={"prompt": prompt, "model": model}, timeout=300)
        if answer.ok:
            body = answer.json()
            st.markdown(body["response"])
            st.caption("from cache" if body["cached"] else model)
        else:
            st.error(f"{answer.status_code}: {answer.text[:500]}")

with search_tab:
    query = st.text_input("Search")
    if query:
        answer = requests.post(f"{API}/vector/search", json={"query": query, "k": 5}, timeout=60)
        if answer.ok:
            for hit in answer.json()["hits"]:
                st.write(f"{hit['score']:.3f}  {hit['text']}")
        else:
            st.error(f"{answer.status_code}: {answer.text[:500]}")
