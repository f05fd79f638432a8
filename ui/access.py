"""Who may change the library from the chat: everyone on this computer, the admin on a shared server.

The rules are :mod:`assistant.access`'s; this module only draws them. The page is shared
when Streamlit listens on anything but a loopback address (``make run HOST=0.0.0.0``,
``--server.address``; no address at all means every interface) or ``Settings.shared`` is on.
Then "Add guideline" and "Rebuild index" are not drawn at all until the admin secret
has been typed in this session; without a configured secret they stay hidden.
Every change is appended to the audit log with the visitor's address.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from assistant import Assistant
from assistant.access import admin_secret, is_shared, matches
from assistant.errors import AssistantError
from assistant.settings import Settings
from ui import render

SECRET_KEY = "ga_admin_secret"
NO_SECRET = (
    "This chat is shared on the network, so the library cannot be changed from it. To allow changes, "
    "start it with GUIDELINE_ASSISTANT_ADMIN_SECRET_FILE naming a file that holds an admin secret."
)


def server_address() -> str | None:
    """The address Streamlit listens on (None: every interface)."""
    address = st.get_option("server.address")
    return str(address) if address else None


def client_address() -> str | None:
    """The visitor's address as Streamlit saw it (None where it does not say), for the audit log."""
    try:
        address = st.context.ip_address
    except (AttributeError, RuntimeError):  # an older Streamlit; no runtime (AppTest in a thread)
        return None
    return address if isinstance(address, str) and address else None


def library_unlocked(settings: Settings) -> bool:
    """Whether this session may change the library; on a shared page, asks for the admin secret first.

    The typed secret is kept in the session and compared (in constant time) on every run, so a
    changed secret file locks every open session out again.
    """
    if not is_shared(settings, server_address()):
        return True
    try:
        secret = admin_secret(settings)
    except AssistantError as exc:
        st.error(render.escape_markdown(str(exc)), icon=":material/error:")
        return False
    if secret is None:
        st.caption(NO_SECRET)
        return False
    if matches(secret, st.session_state.get(SECRET_KEY)):
        return True
    with st.form("ga_admin", border=False):
        given = st.text_input(
            "Admin secret", type="password", key="ga_admin_given", help="Needed to add guidelines or rebuild the index."
        )
        if st.form_submit_button("Unlock library changes", icon=":material/lock_open:"):
            if matches(secret, given):
                st.session_state[SECRET_KEY] = given
                st.rerun()
            st.error("That is not the admin secret.", icon=":material/error:")
    return False


def session_unlocked(settings: Settings) -> bool:
    """Whether this session may change the library, without asking: local, or shared and already unlocked."""
    if not is_shared(settings, server_address()):
        return True
    try:
        secret = admin_secret(settings)
    except AssistantError:
        return False
    return secret is not None and matches(secret, st.session_state.get(SECRET_KEY))


def record(settings: Settings, action: str, file: Path | None = None, outcome: str = "ok") -> str | None:
    """Append a library change to the audit log; the one-line problem when it cannot be written, else None."""
    try:
        Assistant.record_change(settings, action, file=file, client=client_address(), outcome=outcome)
    except AssistantError as exc:
        return str(exc)
    return None
