"""The practice page of a real quick run: every deck face a true lesson (checked against the models and the AU
tables), rebuilt only when its inputs change, and played in headless Chromium from file:// by keyboard and by mouse,
with progress kept across a reload and axe-core's accessibility rules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from face_emotion import au_models
from face_emotion.core.config import load_params
from face_emotion.core.facs import HEAD_POSITIONS, PROTOTYPES, UPPER_FACE_AUS
from face_emotion.core.feature_sets import feature_matrix
from face_emotion.core.paths import load_paths
from face_emotion.core.tables import read_au_table
from face_emotion.explain.reasons import Movement
from face_emotion.practice.page import read_deck
from tests.helpers import run, stages_run
from tests.pipeline.test_report import CHROMIUM_FLAGS, chromium

ABOVE_MASK = {*UPPER_FACE_AUS, *HEAD_POSITIONS}


@pytest.fixture(scope="module")
def deck(quick_project) -> dict:
    return read_deck(load_paths(quick_project).practice_deck)


def level_faces(deck: dict, name: str) -> list[dict]:
    (level,) = [level for level in deck["levels"] if level["name"] == name]
    return [deck["faces"][face_id] for face_id in level["faces"]]


def test_every_deck_face_is_answered_as_labelled_for_a_prototype_movement_it_shows(quick_project, deck):
    paths, params = load_paths(quick_project), load_params(quick_project / "params.yaml")
    sources = {"whole": (au_models.load(paths.au_model), read_au_table(paths.au_table), "path"),
               "masked": (au_models.load(paths.upper_face_au_model), read_au_table(paths.masked_au_table("masked")),
                          "source_path")}
    for level, (model, table, key) in sources.items():
        faces = level_faces(deck, level)
        assert faces, f"no {level} face qualified in the quick run"
        rows = table.set_index(key).loc[[face["source"] for face in faces]]
        probabilities = model.predict_proba(feature_matrix(rows.reset_index(), model.features_))
        for face, p in zip(faces, probabilities, strict=True):
            assert model.classes[int(p.argmax())] == face["emotion"]
            assert p[model.classes.index(face["emotion"])] >= params.practice.min_confidence
            assert face["masked"] is (level == "masked")
            raising = [(au, movement) for cue in face["cues"] if cue["sign"] == "+"
                       for au, movement in zip(cue["aus"], cue["movements"], strict=True)]
            if face["emotion"] in PROTOTYPES:  # a prototype movement present on the face raises the answer
                assert any(au in PROTOTYPES[face["emotion"]] and m == Movement(au, True, 1.0).words()
                           for au, m in raising), face
                assert any(t for cue in face["cues"] for t in cue["typical"])
            else:  # neutral: a movement at rest
                assert any(m == Movement(au, False, 1.0).words() for au, m in raising), face
            for image in (face["image"], face["marked"], face["unmasked"]):
                assert not image or (paths.practice / image).is_file()
            if level == "masked":
                assert {au for cue in face["cues"] for au in cue["aus"]} <= ABOVE_MASK
                assert face["unmasked"] and face["hidden_mouth"]
    assert sorted(face["id"] for face in level_faces(deck, "mixed")) == sorted(deck["faces"])
    whole_sources = {f["source"] for f in level_faces(deck, "whole")}
    assert not whole_sources & {f["source"] for f in level_faces(deck, "masked")}  # a face is learnt once


def test_counts_and_shortfalls_are_reported(quick_project, deck):
    paths, params = load_paths(quick_project), load_params(quick_project / "params.yaml")
    metrics = json.loads(paths.practice_metrics.read_text())
    assert metrics["faces"] == {level: sum(counts.values()) for level, counts in deck["counts"].items()}
    assert 0 < metrics["page_mb"] < 5
    for level in ("whole", "masked"):
        for emotion, count in deck["counts"][level].items():
            assert count <= params.practice.faces_per_emotion
            short = [n for n in deck["notes"] if n.startswith(f"{level.title()} faces: {emotion} has {count} of")]
            assert bool(short) is (count < params.practice.faces_per_emotion)
    page = paths.practice_page.read_text() + (paths.practice / "practice.js").read_text()
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", page) and "fetch(" not in page  # nothing from a network


def test_the_teachers_sheet_has_a_page_per_emotion_with_every_deck_face(quick_project, deck):
    sheet = load_paths(quick_project).practice_sheet.read_text()
    sections = re.findall(r"<section><h2>(\w+)</h2>(.*?)</section>", sheet, re.S)
    assert [title.lower() for title, _ in sections] == deck["classes"]
    assert "break-after: page" in sheet
    for (_, body), emotion in zip(sections, deck["classes"], strict=True):
        faces = [f for f in deck["faces"].values() if f["emotion"] == emotion]
        assert body.count("<figure>") == len(faces)
        assert all(f'src="{f["marked"]}"' in body for f in faces)
        assert all(re.search(r'<img src="[^"]+" alt="[^"]+">', card) for card in body.split("<figure>")[1:])


def test_only_a_change_of_its_inputs_rebuilds_the_page(project_copy):
    result = run(["dvc", "exp", "run", "-S", "experiment=quick", "-S", "data.root=faces",
                  "-S", "practice.round_length=5"], cwd=project_copy)
    assert sorted(stages_run(result.stdout)) == ["check_params", "practice"]
    assert read_deck(load_paths(project_copy).practice_deck)["round_length"] == 5
    assert stages_run(run(["dvc", "repro"], cwd=project_copy).stdout) == []


# In the browser ------------------------------------------------------------------------------------------------------

@pytest.fixture
def browser(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS[1:])
        yield launched
        launched.close()


def open_page(browser, folder: Path, width: int = 1000, context=None):
    context = context or browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto((folder / "index.html").as_uri())
    page.wait_for_selector("#face[src]", state="visible")
    return page


def current_face(page, deck: dict) -> dict:
    source = page.get_attribute("#face", "src")
    (face,) = [f for f in deck["faces"].values() if f["image"] == source]
    return face


def wait_decoded(page, selector: str) -> None:
    """Wait until the image ``selector`` names is loaded and decoded (images load asynchronously); a Playwright
    TimeoutError after 10 s fails the test."""
    page.wait_for_function(f"() => {{ const i = document.querySelector('{selector}'); "
                           "return i.complete && i.naturalWidth > 0; }", timeout=10_000)


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def test_a_round_by_keyboard_alone(browser, quick_project, deck):
    folder = load_paths(quick_project).practice
    page = open_page(browser, folder)
    classes = deck["classes"]
    assert page.get_attribute("[data-level=whole]", "aria-pressed") == "true"
    assert serious_violations(page) == []
    length = min(deck["round_length"], len(level_faces(deck, "whole")))
    expected_right = 0
    for number in range(length):
        face = current_face(page, deck)
        assert not face["masked"] and f"{number + 1} of {length}" in page.get_attribute("#face", "alt")
        right = number % 2 == 0
        chosen = face["emotion"] if right else next(c for c in classes if c != face["emotion"])
        page.keyboard.press(str(classes.index(chosen) + 1))
        verdict = page.inner_text("#verdict")
        assert verdict.startswith("\u2713 Right" if right else "\u2717 Not quite") and face["emotion"] in verdict
        expected_right += right
        assert page.get_attribute("#marked", "src") == face["marked"]
        wait_decoded(page, "#marked")
        cues = page.inner_text("#cues")
        for cue in face["cues"]:
            assert f"{cue['region']}: {cue['movements'][0]}" in cues and all(m in cues for m in cue["movements"])
        typical = sum(t for cue in face["cues"] for t in cue["typical"])
        assert cues.count(f"\u2605 typical of {face['emotion']}") == typical
        assert typical or face["emotion"] not in PROTOTYPES
        if number == 0:
            assert serious_violations(page) == []
        assert page.evaluate("document.activeElement.id") == "next"
        page.keyboard.press("Enter")
    assert page.inner_text("#summary-title") == f"Round done: {expected_right} of {length} right"
    assert page.is_visible("#suggestion") and serious_violations(page) == []
    assert page.evaluate("document.activeElement.id") == "again"
    page.keyboard.press("Tab")  # the focus moves on visibly, by keyboard
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


def test_a_masked_round_by_mouse_names_no_lower_face_movement_and_progress_survives_a_reload(browser, quick_project,
                                                                                              deck):
    folder = load_paths(quick_project).practice
    context = browser.new_context(viewport={"width": 320, "height": 800})  # a phone
    page = open_page(browser, folder, context=context)
    page.click("[data-level=masked]")
    length = min(deck["round_length"], len(level_faces(deck, "masked")))
    lower_face = re.compile(r"\(AU(9|10|12|14|15|17|20|23|25|26)\)")
    for _ in range(length):
        face = current_face(page, deck)
        assert face["masked"] and "wearing a mask" in page.get_attribute("#face", "alt")
        page.click(f"[data-emotion={face['emotion']}]")
        assert page.inner_text("#verdict").startswith("\u2713 Right")
        assert not lower_face.search(page.inner_text("#cues"))
        assert page.is_visible("#unmasked")
        wait_decoded(page, "#unmasked")
        if face["hidden_mouth"]:
            assert page.inner_text("#hidden-mouth") == face["hidden_mouth"]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
        page.click("#next")
    assert page.inner_text("#summary-title") == f"Round done: {length} of {length} right"
    assert serious_violations(page) == []
    page.reload()
    page.wait_for_selector("#face[src]", state="visible")
    assert page.get_attribute("[data-level=masked]", "aria-pressed") == "true"  # the last level played
    assert page.is_visible("#saved-table") and "Masked faces" in page.inner_text("#saved-head")
    saved = page.evaluate("JSON.parse(localStorage.getItem('face-emotion-practice')).totals.masked")
    assert sum(t["right"] for t in saved.values()) == sum(t["seen"] for t in saved.values()) == length
    page.click("#reset")
    assert page.is_hidden("#saved-table") and page.is_visible("#saved-empty")
    page.reload()
    page.wait_for_selector("#face[src]", state="visible")
    assert page.is_visible("#saved-empty") and page.evaluate("localStorage.getItem('face-emotion-practice')") is not None
    assert page.evaluate("JSON.parse(localStorage.getItem('face-emotion-practice')).totals") is None
    context.close()


def test_a_missing_image_is_skipped_with_a_note(browser, quick_project, deck, tmp_path):
    folder = Path(shutil.copytree(load_paths(quick_project).practice, tmp_path / "practice"))
    whole = level_faces(deck, "whole")
    for face in whole:
        (folder / face["image"]).unlink()
    page = browser.new_page()
    page.goto((folder / "index.html").as_uri())
    page.wait_for_selector("#notes li")
    assert "is missing, so it was skipped" in page.inner_text("#notes")
    page.wait_for_selector("#summary", state="visible")  # every face skipped: the round ends, it does not freeze
    assert page.inner_text("#summary-title") == "No face of this round could be shown: see the notes."
    (folder / "deck.js").unlink()
    page.reload()
    assert "The deck (deck.js) is missing" in page.inner_text("main")


@pytest.mark.parametrize("saved", ["not json", '"5"', "[1, 2]", '{"totals": 3}', '{"totals": {"whole": {"happy": "x"}}}'])
def test_damaged_saved_progress_counts_as_none(browser, quick_project, deck, saved):
    """Progress another version or a broken write left under the page's key: the page starts, plays and saves anew."""
    page = open_page(browser, load_paths(quick_project).practice)
    page.evaluate("value => localStorage.setItem('face-emotion-practice', value)", saved)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.reload()
    page.wait_for_selector("#face[src]", state="visible")
    face = current_face(page, deck)
    page.click(f"[data-emotion={face['emotion']}]")
    assert page.inner_text("#verdict").startswith("\u2713 Right") and errors == []
    totals = page.evaluate("JSON.parse(localStorage.getItem('face-emotion-practice')).totals")
    assert not face["masked"] and totals["whole"][face["emotion"]] == {"seen": 1, "right": 1}

