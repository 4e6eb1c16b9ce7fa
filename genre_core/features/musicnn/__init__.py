"""musicnn (Pons & Serra 2019), ported to Keras 3: the front end (log-mel patches), the four
pretrained networks (backbone, vgg, zoo) and the feature kinds built on them (units)."""
