"""What the model listened to: occlusion saliency over one segment of the chosen clip, for
the CNN (on MFCCs) and musicnn (on its mel spectrogram), toward the segment's top genre and
its runner-up."""
import streamlit as st

import ui_state
import ui_views

st.title("What the model listened to")
clip = ui_state.require_clip()
if clip is None:
    st.stop()
st.caption("Clip: " + ui_views.plain(ui_state.clip_name()))
ui_views.saliency_section(clip, ui_state.clip_digest(), key="sal")
