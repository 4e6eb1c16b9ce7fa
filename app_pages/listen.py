"""Listen: choose a clip (upload, microphone or a dataset track), hear it, and see how the
models will cut it into 3-second segments."""
import streamlit as st

from genre_core.views import plots
from studio import sections, state
from studio import summaries as sup

st.title("Listen")

SOURCES = ["Upload a file", "Record with the microphone", "Dataset track"]
source = st.radio("Where does the clip come from?", SOURCES, horizontal=True, key="listen_source")

if source == SOURCES[0]:
    upload = st.file_uploader(f"Audio file ({state.UPLOAD_HINT})",
                              type=state.UPLOAD_TYPES, key="listen_upload")
    if upload is not None:
        data = upload.getvalue()
        if not data:
            st.error(f"{state.md(upload.name)}: the file is empty (0 bytes).")
        else:
            state.set_clip(data, upload.name, "upload")
elif source == SOURCES[1]:
    recording = st.audio_input("Record a clip (at least a few seconds; 30 s is ideal)",
                               sample_rate=22050, key="listen_record")
    if recording is not None:
        state.set_clip(recording.getvalue(), "microphone recording.wav", "microphone")
else:
    ds = state.dataset(show_error=True)
    if ds is None:
        if not state.data_path():
            st.info(state.connect_hint())
    else:
        c1, c2, c3 = st.columns([2, 2, 1], vertical_alignment="bottom")
        genre = c1.selectbox("Genre", ds.genres, key="listen_genre")
        numbers = sup.track_numbers(ds, genre)
        number = c2.selectbox("Track number", numbers, key="listen_number")
        if c3.button("Use this track", key="listen_use", type="primary") and number is not None:
            track = sup.find_track(ds, genre, number)
            data = state.track_bytes(track) if track else None
            if data:
                state.set_clip(data, track.filename, "dataset")
        index = state.track_index()
        if number is not None:
            track = sup.find_track(ds, genre, number)
            if track is not None:
                st.caption(state.md(sup.describe_track(track.id, index)))

if state.clip_digest() is None:
    st.info("No clip chosen yet.")
    sections.genre_examples()
    st.stop()

clip = state.current_clip()
name = state.clip_name()
st.subheader(f"Chosen clip: {state.md(name)}")
data = state.clip_bytes()
if clip is None:
    if st.button("Forget this clip", key="listen_forget"):
        state.clear_clip()
        st.rerun()
    st.stop()

st.audio(data, format=sup.audio_mime(name), start_time=int(clip.offset))
f = sup.clip_facts(clip)
m1, m2, m3 = st.columns(3)
m1.metric("duration", f["duration"])
m2.metric("sample rate", f["sample rate"])
m3.metric("channels", f["channels"])
for w in clip.warnings:
    st.warning(w)
if clip.truncated:
    st.info(sup.excerpt_note(clip))

config = state.feature_config()
n = sup.segment_count(clip, config)
sections.chart(plots.waveform(clip.samples, clip.sample_rate, config.segment_seconds,
                               title=f"Waveform: {n} segment(s) of {config.segment_seconds:g} s "
                                     "(red dashed lines)"),
                width="stretch", key="listen_waveform")
st.page_link("app_pages/compare.py", label="See what the models say", icon="⚖️")
sections.listen_timeline(clip)
sections.genre_examples()
