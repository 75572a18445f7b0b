"""Explainable facial-emotion recognition: faces -> FACS Action Units -> emotions."""

import os

# TensorFlow 2.21's oneDNN CPU kernels corrupt the heap while training the CNN on some CPUs (seen on AMD EPYC with
# AVX-512: 5 of 6 quick runs of train_cnn aborted, none of 5 with them off). Off unless the environment says otherwise.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"
