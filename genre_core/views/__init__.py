"""Pure computations and figures behind the app's views (no Streamlit), built on the
inference layer: plots and view_plots (Plotly figures), music_map (the 2-D map of the
dataset), ood (is a clip like the training music?), saliency (what a model listened to),
teaching (feature explanations and genre examples)."""
