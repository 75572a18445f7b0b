"""Static figures (PNG) for DVC plots and reports, drawn with matplotlib's non-interactive backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from face_emotion.au_model.base import AuModel
from face_emotion.core.io import atomic_path
from face_emotion.core.tables import describe

MAX_HEATMAP_FEATURES = 24


def profile_heatmap(model: AuModel, target: str | Path) -> None:
    """Emotion x feature coefficients as a blue (lowers) / red (raises) heatmap with the values written in."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    coef = np.asarray(model.coef_)
    keep = np.argsort(-np.abs(coef).max(axis=0))[:MAX_HEATMAP_FEATURES]
    keep = np.sort(keep)
    coef = coef[:, keep]
    limit = float(np.abs(coef).max()) or 1.0
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(keep), 1.2 + 0.5 * len(model.classes)))
    image = ax.imshow(coef, cmap="RdBu_r", vmin=-limit, vmax=limit, aspect="auto")
    ax.set_xticks(range(len(keep)), [describe(model.features_[j]) for j in keep], rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(model.classes)), model.classes)
    for (i, j), value in np.ndenumerate(coef):
        colour = "white" if abs(value) > 0.6 * limit else "black"
        ax.text(j, i, f"{value:+.1f}", ha="center", va="center", fontsize=7, color=colour)
    ax.set_title("What raises (+) and lowers (-) the odds of each emotion")
    fig.colorbar(image, ax=ax, label="coefficient per standard deviation")
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
