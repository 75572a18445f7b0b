"""Static figures (PNG) for DVC plots and reports, drawn with matplotlib's non-interactive backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from face_emotion.au_models.base import AuModel
from face_emotion.core.io import atomic_path
from face_emotion.core.tables import AU_COLUMNS, describe

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


SHAPES_SHOWN = 6
GRID = 60


def shape_figure(model: AuModel, values: np.ndarray, target: str | Path) -> None:
    """For the features that move the odds most, how each emotion's log-odds change along the feature's range (the
    1st to 99th percentile of ``values``, every other feature at its training mean): the model's shape functions,
    a straight line for the linear model, a curve or steps for the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    strongest = np.argsort(-np.abs(np.asarray(model.coef_)).max(axis=0))[:SHAPES_SHOWN]
    columns = min(3, len(strongest))
    rows = -(-len(strongest) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    styles = ["-", "--", ":", "-.", (0, (5, 1)), (0, (1, 2, 5, 2))]  # the emotions told apart without colour too
    for ax, j in zip(axes.flat, strongest, strict=False):
        low, high = np.nanpercentile(values[:, j], [1, 99])
        grid = np.tile(np.asarray(model.mean_), (GRID, 1))
        grid[:, j] = np.linspace(low, high if high > low else low + 1, GRID)
        curves = model.contributions(grid)[:, :, j]
        for k, emotion in enumerate(model.classes):
            ax.plot(grid[:, j], curves[:, k], linestyle=styles[k % len(styles)], label=emotion)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_title(describe(model.features_[j]), fontsize=9)
        ax.set_xlabel("measured value", fontsize=8)
        ax.set_ylabel("log-odds, from the average face", fontsize=8)
    for ax in axes.flat[len(strongest):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("How each movement moves the odds of each emotion")
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


TIMELINE_AUS = 5
"""Movements shown under a video's emotion timeline: those that change most over the video."""


def timeline_figure(frames: pd.DataFrame, classes: list[str], title: str, target: str | Path) -> None:
    """One face's emotions over a video (``frames``: time_s, p_<class> and AU*_r columns, one row per analysed
    frame, NaN where the face was not measured) and, under them, the TIMELINE_AUS movements that vary most."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    moving = frames[[c for c in AU_COLUMNS if c in frames]].std().dropna().sort_values(ascending=False)
    shown = list(moving.index[:TIMELINE_AUS])
    fig, (emotions, movements) = plt.subplots(2, 1, sharex=True, figsize=(10, 6), height_ratios=(3, 2))
    for style, emotion in zip(["-", "--", "-.", ":"] * 2, classes, strict=False):
        emotions.plot(frames.time_s, frames[f"p_{emotion}"], style, label=emotion, linewidth=1.6)
    emotions.set_ylim(0, 1)
    emotions.set_ylabel("probability")
    emotions.legend(loc="upper left", ncol=len(classes), fontsize=8)
    emotions.set_title(title)
    for style, column in zip(["-", "--", "-.", ":", (0, (5, 1))], shown, strict=False):
        movements.plot(frames.time_s, frames[column], linestyle=style, label=describe(column), linewidth=1.4)
    movements.set_ylabel("intensity (0-5)")
    movements.set_xlabel("time (s)")
    movements.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    with atomic_path(target) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
