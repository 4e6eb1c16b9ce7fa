"""Map of music: every track the shipped models were trained on, placed by how musicnn hears
it (UMAP of clip-level embeddings), coloured by genre; the chosen clip and the five tracks it
sounds most like; misclassified tracks can be ringed."""
import pandas as pd
import streamlit as st

from genre_core.views import view_plots
from studio import sections, state
from studio import summaries as sup

st.title("Map of music")
m = sections.music_map()
if m is None:
    st.info("This model bundle has no map of music. Build it with "
            "`python -m tools.build_map --bundle <bundle> --data <GTZAN folder>`.")
    st.stop()
st.caption(f"{len(m.ids)} training tracks placed by {m.method.upper()} from musicnn's "
           "embedding of each clip: tracks that sound alike sit close together. Hover a point "
           "for artist and title.")

meta = state.bundle_meta(show_error=False)
models = sup.evaluated_models(*meta) if meta else []
c1, c2 = st.columns([1, 2])
highlight_on = c1.toggle("Ring misclassified tracks", key="map_misclassified")
highlight = {}
if highlight_on and models:
    if st.session_state.get("map_model") not in models:
        st.session_state["map_model"] = sup.answer_model(meta[1], models)
    model = c2.selectbox("misclassified by (held-out predictions)", models,
                         format_func=sup.display_name, key="map_model")
    highlight = sections.map_highlights(model)

clip = state.current_clip(show_error=False) if state.clip_digest() else None
place, near = None, []
if clip is not None:
    emb = sections.clip_embedding(clip)
    own = state.clip_name().rsplit(".", 1)[0]
    near = m.neighbours(emb, 5, exclude=own if own in m.ids else None)
    place = m.place(emb)
sections.chart(view_plots.music_map(m, highlight, place, "your clip", [n["track"] for n in near],
                                    height=540), key="map_chart", name="music-map")

if clip is None:
    st.info("Choose a clip on the Listen page to see where it lands and what it sounds like.")
    st.stop()
st.subheader("The five training tracks it sounds most like")
st.caption("Nearest in musicnn's embedding (cosine distance: 0 = the same direction).")
index = state.track_index()
st.dataframe(pd.DataFrame([{"track": n["track"], "genre": n["genre"],
                            "artist": n["artist"] or "unknown",
                            "title": n["title"] or "unknown", "distance": n["distance"]}
                           for n in near]), hide_index=True, width="stretch")
ds = state.dataset()
if ds is None:
    st.caption(state.connect_hint())
else:
    pick = st.selectbox("Play", [n["track"] for n in near], key="map_play",
                        format_func=lambda t: sup.describe_track(t, index))
    track = sup.find_track_by_id(ds, pick)
    data = state.track_bytes(track) if track is not None else None
    if data:
        st.audio(data, format=sup.audio_mime(track.filename))
