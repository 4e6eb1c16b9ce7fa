"""`python -m genre_core bench`: how fast and how big Genre Studio is, next to the naive
notebook pipeline it replaces.

Sections (names usable with --skip):
  latency     warm prediction of a 30-s WAV and MP3 with the bundle's models (default: all),
              split into decode / extract (each feature kind) / each model, beside the naive
              path (librosa.load with default resampling, MFCC per segment in a loop, Keras
              model.predict per segment, MLP + CNN) and the ratio naive/fast
  cold        whole-process `python -m genre_core predict FILE` (wall time), and the stages
              of a cold prediction measured inside a fresh process (imports, decode, ...)
  batch       `predict DIR --csv` over several clips: one process vs the process pool
  app         Streamlit: first render of Home in Debian chromium (Playwright), then the first
              prediction after an upload on Listen until Compare shows it
  extraction  clips per second over the dataset: cold (empty cache, all cores), cached, and a
              sequential one-clip-at-a-time naive loop
  training    seconds per epoch and in total for each model family
  memory      peak RSS of a `predict` process and of the app's server after every page
  growth      prediction time and peak memory for 30-s, 3-min and 10-min clips, read limit off

Every figure is min/median/max over the runs made (n says how many). Sections run in an
order that keeps TensorFlow out of this process until extraction is done (so the process
pool can fork, as it does in `train`), but are reported in the order above.

One module per section; this package lives outside the importable library
(genre_core never imports it; `python -m genre_core bench` reaches it through a thin import).
"""
from bench.common import SECTIONS, Material, peak_rss_of, ratio, stats, synth_music, tile_to
from bench.main import run
from bench.naive import keras_net, naive_features, naive_load, naive_model_proba, naive_predict
from bench.report import TARGETS, evaluate_targets, format_table, table_rows

__all__ = ['stats', 'ratio', 'synth_music', 'tile_to', 'peak_rss_of', 'Material', 'naive_features',
           'naive_load', 'naive_model_proba', 'naive_predict', 'keras_net', 'evaluate_targets',
           'format_table', 'table_rows', 'run', 'SECTIONS', 'TARGETS']
