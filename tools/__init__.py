"""Scripts a user or maintainer runs from the repository root: `python -m tools.<name>`
(conversion, ONNX export, the map of music, screenshots, cross-validation on a GPU machine;
train_bundle.sh retrains the shipped bundle). The studies that chose the shipped recipes are
in studies/."""
