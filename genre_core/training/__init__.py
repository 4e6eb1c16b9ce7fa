"""The training layer, built on the inference layer (never the reverse).

fitting (fit a family on track features, cross-validate it over a split, distillation
targets), splits (random, k-fold, artist, artist-filtered), evaluation (metrics of held-out
predictions), augment (training-set augmentation), table_candidates (the candidate models the
table family compares), ensemble (the ensemble's training data and nested evaluation).

TensorFlow is imported here (through Keras) only inside the functions that fit."""
