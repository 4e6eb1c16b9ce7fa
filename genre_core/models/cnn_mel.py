"""The seed study's CNN, unchanged, on a 64-band log-mel spectrogram of each 3-s segment
instead of its 13 MFCCs (features.logmel_segments): the MFCCs' few coefficients keep too
little of the spectrum to tell genres of artists it never heard (issue #9, step 3;
studies/cnn_input_study.py)."""
from __future__ import annotations

from genre_core.models.cnn import CNNModel


class MelCNNModel(CNNModel):
    family = "cnn_mel"
    feature = "logmel"
