"""User-named text (file names, track ids, paths, error messages) made inert for Markdown, so
the app shows it literally; no Streamlit here."""
from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|<>~:$&\"'=^])")


def md_escape(text: str) -> str:
    """Text to put inside Markdown (st.markdown, st.caption, st.error, ...) so that it shows
    literally: every character Markdown, HTML or Streamlit's `:icon:`/`:color[...]`
    directives could act on is backslash-escaped, a leading "1." does not start a list, and
    line breaks become spaces. For file names, track ids, paths and error messages, which a
    visitor may have chosen."""
    text = " ".join(str(text).splitlines())
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"^(\s*\d+)\.", r"\1\\.", text)
