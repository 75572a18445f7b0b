"""Tests in three lanes: unit/ (tiny inputs, no pipeline), integration/ (real MediaPipe and Keras), pipeline/ (real
DVC runs, an S3 server, Chromium). Shared helpers: tests/helpers.py."""
