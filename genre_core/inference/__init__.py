"""The inference layer: what turns audio into genre probabilities with a fitted bundle.

audio (decoding), features / kaggle_features (the feature kinds), cache and dataset (feature
cache, dataset indexing and extraction), bundle / bundle_files (a bundle on disk, loaded and
saved atomically), serving (ONNX Runtime for exported Keras networks), predict (`Predictor`),
batch_predict (many files, a process pool), ensemble (the calibrated pooling of the models),
deploy (what a server may read).

It imports the foundation (genre_core.config, errors, atomic, safe_io) and the model families
(genre_core.models, loaded by name through the registry), never genre_core.training,
genre_core.cli or the bench: the contracts in pyproject.toml say so and CI checks them."""
