"""What the model listened to: occlusion saliency over one segment of the chosen clip, for
the CNN (on MFCCs) and musicnn (on its mel spectrogram), toward the segment's top genre and
its runner-up."""
import streamlit as st

from studio import sections, state

st.title("What the model heard")
clip = state.require_clip()
if clip is None:
    st.stop()
st.caption("Clip: " + sections.plain(state.clip_name()))
sections.saliency_section(clip, state.clip_digest(), key="sal")
