"""Every new answer read from its first line: scroll to the newest question, and a "new answer ↓" cue.

Streamlit keeps a chat scrolled to its end, so after a question the reader sees the
dose table and the last supporting quote while the alert and the direct answer are
above the fold. After each new answer this page scrolls so the newest question and
the top of its answer are in view; when the reader has scrolled away from it, a
small "New answer ↓" button brings it back.

The script is a constant of this module (only the number of answers is filled in,
as an integer), run by ``st.html(..., unsafe_allow_javascript=True)``: no guideline
or user text ever reaches it. It re-runs only when the number of answers changes,
because Streamlit re-mounts an ``st.html`` element only when its body changes.
"""

from __future__ import annotations

import streamlit as st

CUE_LABEL = "New answer ↓"
CUE_ID = "ga-new-answer"
MESSAGE = '[data-testid="stChatMessage"]'
# How long the page keeps the newest question at the top while Streamlit finishes drawing (ms);
# any wheel, touch, key or click from the reader stops it at once. After the hold, until the reader
# does anything, the page is brought back if Streamlit's stick-to-the-end moves it to the end.
HOLD_MS = 2500

_SCRIPT = """
<script>
(() => {
  const turns = __TURNS__;
  const doc = window.document;
  const messages = () => doc.querySelectorAll('__MESSAGE__');
  const question = () => messages()[2 * turns - 2] || null;
  const reply = () => messages()[2 * turns - 1] || null;
  const cue = () => {
    let button = doc.getElementById('__CUE_ID__');
    if (!button) {
      button = doc.createElement('button');
      button.id = '__CUE_ID__';
      button.type = 'button';
      button.textContent = '__CUE_LABEL__';
      button.setAttribute('aria-label', 'Scroll to the newest answer');
      button.style.cssText = 'position:fixed;left:50%;transform:translateX(-50%);bottom:6.5rem;z-index:1000;'
        + 'display:none;padding:0.35rem 0.9rem;border-radius:1rem;border:1px solid #1a7f37;background:#fff;'
        + 'color:#1a7f37;font:600 0.9rem sans-serif;box-shadow:0 2px 6px rgba(0,0,0,0.2);cursor:pointer;';
      button.addEventListener('click', () => {
        const target = doc.querySelectorAll('__MESSAGE__');
        const newest = target[2 * (window.__gaTurns || 1) - 2];
        if (newest) newest.scrollIntoView({block: 'start'});
      });
      doc.body.appendChild(button);
    }
    return button;
  };
  const update = () => {
    const newest = reply();
    if (!newest) return;
    const top = newest.getBoundingClientRect().top;
    cue().style.display = top > window.innerHeight - 80 || newest.getBoundingClientRect().bottom < 0 ? 'block' : 'none';
  };
  window.__gaTurns = turns;
  if (!window.__gaCueWatch) {
    window.__gaCueWatch = true;
    doc.addEventListener('scroll', () => window.__gaUpdate && window.__gaUpdate(), true);
    window.addEventListener('resize', () => window.__gaUpdate && window.__gaUpdate());
  }
  window.__gaUpdate = update;
  if (turns < 1) return;
  let stopped = false;
  const stop = () => { stopped = true; };
  const inputs = ['wheel', 'touchstart', 'keydown', 'pointerdown'];
  inputs.forEach((name) => doc.addEventListener(name, stop, {once: true, capture: true}));
  const scroller = (element) => {
    for (let node = element.parentElement; node; node = node.parentElement) {
      const overflow = window.getComputedStyle(node).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && node.scrollHeight > node.clientHeight) return node;
    }
    return doc.scrollingElement;
  };
  // After the hold, until the reader does anything: Streamlit keeps a chat stuck to its end and may
  // send the page there later; when it has, and the newest question is above the screen, bring it back.
  const guard = () => {
    if (stopped || window.__gaTurns !== turns) {
      inputs.forEach((name) => doc.removeEventListener(name, stop, true));
      return;
    }
    const target = question();
    if (target && target.getBoundingClientRect().top < 0) {
      const box = scroller(target);
      if (box && box.scrollHeight - box.clientHeight - box.scrollTop < 2) target.scrollIntoView({block: 'start'});
    }
    update();
    window.setTimeout(guard, 250);
  };
  const started = Date.now();
  const hold = () => {
    const target = question();
    if (!stopped && target) target.scrollIntoView({block: 'start'});
    update();
    if (!stopped && Date.now() - started < __HOLD_MS__) window.setTimeout(hold, 100);
    else guard();
  };
  window.setTimeout(hold, 50);
})();
</script>
"""


def script(turns: int) -> str:
    """The page script for a conversation of ``turns`` exchanges (an integer: nothing else is filled in)."""
    count = int(turns)
    return (
        _SCRIPT.replace("__TURNS__", str(count))
        .replace("__MESSAGE__", MESSAGE)
        .replace("__CUE_ID__", CUE_ID)
        .replace("__CUE_LABEL__", CUE_LABEL)
        .replace("__HOLD_MS__", str(HOLD_MS))
        .strip()
    )


def follow_newest(turns: int) -> None:
    """Scroll to the newest question when a new answer arrives; keep the cue's watcher on the page."""
    st.html(script(turns), unsafe_allow_javascript=True, width="content")
