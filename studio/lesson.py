"""The guided lesson: five pages in the order a class takes them, linked from Home and, at the
foot of each of those pages, one click on to the next step (so a teacher never hunts through
the sidebar in front of the room)."""
from __future__ import annotations

from pathlib import PurePosixPath

import streamlit as st

# (page file, what the step does, icon), in the order a class takes them
LESSON = [
    ("app_pages/listen.py", "Hear it: upload or record a song (or pick an example)", "🎧"),
    ("app_pages/features.py", "See its MFCCs: what the networks receive", "🎚️"),
    ("app_pages/compare.py", "Compare the models: Genre Studio's answer and who agrees", "⚖️"),
    ("app_pages/confusion.py", "Find the confusion: which genres are mixed up, and play them",
     "🔢"),
    ("app_pages/saliency.py", "See why: what the model listened to", "👂"),
]
HOME = "app_pages/home.py"


def step_of(url_path: str) -> int | None:
    """The lesson step (0-based) of the page served at `url_path` ('listen'), or None."""
    stems = [PurePosixPath(page).stem for page, _, _ in LESSON]
    return stems.index(url_path) if url_path in stems else None


def step_links() -> None:
    """Home: the whole lesson, one link per step."""
    for number, (page, label, icon) in enumerate(LESSON, start=1):
        st.page_link(page, label=f"{number}. {label}", icon=icon)


def footer(url_path: str) -> None:
    """Below a lesson page: where the class is, and the next step (or back to Home)."""
    step = step_of(url_path)
    if step is None:
        return
    st.divider()
    if step + 1 < len(LESSON):
        page, label, icon = LESSON[step + 1]
        st.page_link(page, label=f"Lesson step {step + 2} of {len(LESSON)}: {label}", icon=icon)
    else:
        st.page_link(HOME, label="That was the last step of the lesson: back to Home", icon="🏠")
