"""Batch: drop several files at once and get a table of answers (every model's genre and
confidence, their agreement, an out-of-domain note), downloadable as CSV."""
import pandas as pd
import streamlit as st

from studio import sections, state
from studio import summaries as sup
from studio import view_data as vs

st.title("Batch")
files = st.file_uploader(f"Audio files ({state.UPLOAD_HINT})", type=state.UPLOAD_TYPES,
                         accept_multiple_files=True, key="batch_files")
if not files:
    st.info("Drop several audio files here: each gets every model's answer.")
    st.stop()
predictor = state.predictor()
if predictor is None:
    st.stop()
rows = []
progress = st.progress(0.0, text="Analysing…")
for i, f in enumerate(files):
    rows.append(sections.batch_answer(f.getvalue(), f.name, predictor))
    progress.progress((i + 1) / len(files), text=f"Analysed {i + 1} of {len(files)}")
progress.empty()
table = pd.DataFrame(rows).astype(object).fillna("")   # a failed row: its file and error only
if "error" in table and not table["error"].astype(bool).any():
    table = table.drop(columns="error")
elif "error" in table:                      # where it is seen, beside the file name
    table = table[["file", "error"] + [c for c in table.columns if c not in ("file", "error")]]
st.dataframe(table, hide_index=True, width="stretch")
ok = sum(1 for r in rows if not r.get("error"))
st.caption(f"{ok} of {len(rows)} files analysed; models: "
           + ", ".join(sup.display_name(n) for n in predictor.bundle.models))
st.download_button("Download the table (CSV)", vs.to_csv(rows), file_name="genre-batch.csv",
                   mime="text/csv", key="batch_csv", icon="⬇️")
