"""What every part of the project shares: parameters, paths, FACS knowledge, table schemas, safe writes, errors.

Imported before anything else, so the TensorFlow settings below apply wherever TensorFlow is loaded later.
"""

import os

# TensorFlow 2.21's oneDNN CPU kernels corrupt the heap while training the CNN on some CPUs (seen on AMD EPYC with
# AVX-512: 5 of 6 quick runs of train_cnn aborted, none of 5 with them off). Off unless the environment says otherwise.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up banner
