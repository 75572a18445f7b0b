"""The movements in words a child or a teacher uses: what each AU looks like, the same place at rest, and which
words contradict each other. Apart from core/facs.py so that rewording them reruns only the stages that write or
draw words (explain, evaluate's concept reasons, practice)."""

from __future__ import annotations

PLAIN_WORDS: dict[int, str] = {
    1: "inner brows raised", 2: "outer brows raised", 4: "brows lowered and drawn together", 5: "upper lids raised",
    6: "cheeks raised", 7: "lids tightened", 9: "nose wrinkled", 10: "upper lip raised", 12: "lip corners pulled up",
    14: "dimples", 15: "lip corners pulled down", 17: "chin raised", 20: "lips stretched sideways",
    23: "lips pressed tight", 25: "lips parted", 26: "jaw dropped", 45: "eyes closed", 51: "head turned",
    52: "head turned", 53: "head up", 54: "head down",
}
"""What each movement looks like, in words a child or a teacher uses."""
AT_REST_WORDS: dict[int, str] = {
    1: "inner brows not raised", 2: "outer brows not raised", 4: "brows smooth, not drawn together",
    5: "upper lids not raised", 6: "cheeks not raised", 7: "lids relaxed", 9: "nose smooth",
    10: "upper lip not raised", 12: "lip corners not pulled up", 14: "no dimples", 15: "lip corners not pulled down",
    17: "chin relaxed", 20: "lips not stretched", 23: "lips relaxed", 25: "lips closed", 26: "jaw not dropped",
    45: "eyes open", 51: "head straight", 52: "head straight", 53: "head not raised", 54: "head not lowered",
}
"""The same places when the movement is no stronger than on a neutral face: what a reason says when its absence
counts ('surprise, because the lids are relaxed')."""
OPPOSED: tuple[frozenset[int], ...] = (frozenset({12, 15}), frozenset({5, 45}), frozenset({23, 25}), frozenset({23, 26}))
"""Movements whose plain words say opposite things of one place (lip corners up and down, lids raised and closed,
lips pressed and apart): one reason never names both."""
