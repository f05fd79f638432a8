"""The Streamlit chat UI (``ui/app.py``) and its pure rendering helpers (``ui/render.py``)."""
