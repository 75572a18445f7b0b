"""Action Unit measurement: the backends (face_emotion.au.backends), MediaPipe's mapping and landmark geometry, the
per-image cache, and extraction over a manifest in parallel."""
