"""The reference CNN on raw 48x48 faces: architectures and loading (model), training (training)."""
