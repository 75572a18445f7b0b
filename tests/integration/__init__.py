"""Integration lane: real MediaPipe inference, real Keras training and loading, the installed command."""
