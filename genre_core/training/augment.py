"""What `train --augment` adds to the training tracks of each input kind: copies that sound
like a person's own recordings (genre_core.training.recording_copies), cached like any
feature kind, for training tracks only; test and validation tracks are never augmented.

Measured by artist-grouped CV over the 204 clips, each held-out clip scored as it is and as a
copy degraded by a different chain (studies/realistic_study.py, studies/realistic_study_mfcc.py;
README "Results"): the copies win 11 points on degraded clips for musicnn4 and 7 for the MLP,
for one to two and a half on clean ones; the MFCC CNN lost on both and the LSTM gained
nothing, so those two ship without them. The CNN on log-mel input gained on both (3 points
clean, 4 degraded; studies/cnn_input_study.py) and ships with them. The first round's chain
for the MFCC models (pitch shift, time stretch, noise, SpecAugment masks) was never measured
to help and was replaced by this one."""
from __future__ import annotations


def augmentations() -> dict:
    """feature kind -> (kind of its cached augmented copies, augmenter class): what
    `train --augment` adds to training tracks for models of that input."""
    from genre_core.features import KINDS
    from genre_core.training.recording_copies import CopyAugmenter  # registers the copies

    return {k.name: (k.copies, CopyAugmenter) for k in KINDS.values()
            if k.copies and k.copies in KINDS}
