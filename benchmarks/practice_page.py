"""Benchmark: the practice page as a learner gets it (after `make run`): its weight on disk and how soon the first
face shows when the page is opened from disk in headless Chromium.

    python benchmarks/practice_page.py                      # reports/practice, 5 cold loads
    python benchmarks/practice_page.py --screenshot docs/images/practice_masked_feedback.png

Each load opens a new browser context (an empty cache and no saved progress) and times from the navigation to the
first face decoded and visible (Playwright's wall clock: an upper bound). With --screenshot, a masked round is
answered once and the feedback screen is saved as a PNG (the picture docs/ shows). Prints one Markdown table and
records it for docs/results.md.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import time
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from face_emotion.core.io import size_mb
from face_emotion.core.paths import load_paths
from face_emotion.practice.page import read_deck
from face_emotion.reporting.results import record_benchmark

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
FIRST_FACE = ("() => { const i = document.getElementById('face'); "
              "return i && !i.closest('[hidden]') && i.complete && i.naturalWidth > 0; }")


def first_face_ms(browser: Browser, page_file: Path) -> float:
    """Milliseconds from opening ``page_file`` in a fresh context to its first face decoded and shown."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    start = time.perf_counter()
    page.goto(page_file.resolve().as_uri())
    page.wait_for_function(FIRST_FACE, polling="raf")
    spent = (time.perf_counter() - start) * 1000
    context.close()
    return spent


def masked_feedback_screenshot(browser: Browser, page_file: Path, target: Path) -> None:
    """A masked face answered (rightly), its feedback screen saved as ``target``."""
    page = browser.new_page(viewport={"width": 900, "height": 1100})
    page.goto(page_file.resolve().as_uri())
    page.click("[data-level=masked]")
    deck = read_deck(page_file.parent / "deck.js")
    source = page.get_attribute("#face", "src")
    emotion = next(face["emotion"] for face in deck["faces"].values() if face["image"] == source)
    page.click(f"[data-emotion={emotion}]")
    page.wait_for_function("() => document.getElementById('marked').complete")
    page.locator("#feedback").screenshot(path=str(target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--loads", type=int, default=5, help="cold loads timed")
    parser.add_argument("--screenshot", type=Path, help="save a masked face's feedback screen here (PNG)")
    args = parser.parse_args()
    paths = load_paths()
    if not paths.practice_deck.is_file():
        parser.error(f"{paths.practice_deck} not found: run 'make run' (or 'dvc repro practice') first")
    deck = read_deck(paths.practice_deck)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        times = [first_face_ms(browser, paths.practice_page) for _ in range(args.loads)]
        if args.screenshot:
            masked_feedback_screenshot(browser, paths.practice_page, args.screenshot)
        browser.close()
    row: dict[str, object] = {f"{level['name']} faces": len(level["faces"]) for level in deck["levels"]}
    row |= {"page weight (MB, every file)": size_mb(paths.practice),
            f"first face shown (ms, median of {args.loads} cold loads)": round(statistics.median(times), 1),
            "slowest load (ms)": round(max(times), 1)}
    note = "Opened from disk (file://) in headless Chromium; target: at most 5 MB for 60 faces per level, first face within 1 s."
    print(record_benchmark("practice_page", "python benchmarks/practice_page.py " + shlex.join(sys.argv[1:]), [row], note))


if __name__ == "__main__":
    main()
