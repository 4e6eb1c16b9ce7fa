"""The app's logic, beside app.py (the router) and app_pages/ (layout only).

Streamlit glue: state (operator settings, cached loaders, the chosen clip, the sidebar) and
sections (views several pages share: timeline, out-of-domain notice, saliency, map, downloads,
bookmarkable URLs, presentation mode).

Pure helpers, no Streamlit (unit-tested directly): summaries (what the pages say about a
prediction, the bundle's report as rows and tables, dataset lookups), view_data (timeline
lanes, CSV and batch rows, URL state, presentation CSS) and escape (user text made inert for
Markdown).

The app imports only genre_core's inference layer, its views (figures) and this package;
never genre_core.training, genre_core.cli or the bench (contracts in pyproject.toml)."""
