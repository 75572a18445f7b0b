"""The explanation page: rendered from a real quick run, loaded and measured in headless Chromium."""

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from face_emotion.core.paths import load_paths
from tests.helpers import CLASSES

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  document.body.dataset.images = images.length;
  document.body.dataset.decoded = images.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.dataset.overflow = document.documentElement.scrollWidth - window.innerWidth;
});
</script>"""
"""Appended to a copy of the page: the browser records how many images it decoded and any sideways overflow."""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        pytest.skip("Chromium not found and could not be installed here ('make test' installs Debian's chromium "
                    "with apt-get where it runs as root)")
    return found


def browse(page, tmp_path, *args: str) -> str:
    result = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args,
                             page.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class PageText(HTMLParser):
    """Headings, figure captions and image alt texts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[str] = []
        self.captions: list[str] = []
        self.alts: list[str | None] = []
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("h2", "h3", "figcaption"):
            self._in, self._text = tag, ""
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))

    def handle_data(self, data):
        if self._in:
            self._text += data

    def handle_endtag(self, tag):
        if tag == self._in:
            (self.captions if tag == "figcaption" else self.headings).append(self._text.strip())
            self._in = None


def test_page_loads_in_chromium_with_its_sections_and_faces(quick_project, tmp_path):
    page = load_paths(quick_project).report
    assert "http://" not in page.read_text() and "https://" not in page.read_text()  # self-contained
    dom = browse(page, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
    text = PageText()
    text.feed(dom)
    for section in ("Models compared", "With the lower face masked (surgical_pleated)",
                    "With the lower face masked (respirator)", "What stays readable above a mask",
                    "What each emotion looks like to the AU model", "Example test faces", "Confusion matrices",
                    "How the movements are measured", "Data and parameters", "The CNN explained in facial movements"):
        assert section in text.headings
    assert set(CLASSES) <= set(text.headings)
    with_reasons = [c for c in text.captions if re.search(r"AU model: \w+ \(0\.\d\d\): [^,]*AU\d\d [a-z ]+.* \+\d", c)]
    assert with_reasons and "cnn:" in with_reasons[0]
    assert all(re.search(r"CNN: \w+ \(\d\.\d\d\): ", c) for c in with_reasons)  # the concept CNN's reasons beside
    assert "concept bottleneck" in dom and "Does the CNN read each emotion by its FACS movements?" in dom
    assert "In a surgical_pleated mask:" in with_reasons[0] and "In a respirator mask:" in with_reasons[0]
    assert re.search(r"Per emotion, above a mask.*happy.*\d\.\d\d \(\d\.\d\d\)", dom, re.S)  # masked recall (unmasked)
    assert "Masked faces, read from the upper face" in text.headings and "upper_face_au_model reads it by" in dom
    from_above = [c for c in text.captions if re.match(r"(CORRECT|WRONG): labelled \w+upper_face_au_model: ", c)]
    assert from_above and all(c.endswith("mouth hidden by a mask") for c in from_above)
    assert any("upper-face regions behind" in alt for alt in text.alts)  # a masked face with its reasons drawn
    assert text.alts and all(text.alts)  # every image has an alt text
    assert any("marked on it" in alt for alt in text.alts)  # the reasons drawn on a face
    assert any(alt.startswith("Line charts") for alt in text.alts)  # the shape functions
    assert "tm_classroom" in dom
    montages = [alt for alt in text.alts if "measures highest, top row, and lowest" in alt]
    assert len(montages) == 17 and "Validation faces cheek raiser (AU06_r)" in montages[4]
    link = re.search(r'<a href="([^"]+)">Practise reading faces</a>', dom).group(1)
    assert (page.parent / link).resolve() == load_paths(quick_project).practice_page.resolve()


def test_page_fits_a_phone_and_every_image_decodes(quick_project, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(load_paths(quick_project).report.read_text().replace("</body>", PROBE + "</body>"))
    body = re.search(r"<body[^>]*>", browse(probe, tmp_path, "--window-size=390,844", "--virtual-time-budget=5000",
                                            "--dump-dom")).group(0)
    images, decoded, overflow = (int(re.search(f'data-{key}="(-?\\d+)"', body).group(1))
                                 for key in ("images", "decoded", "overflow"))
    assert images > len(CLASSES) and decoded == images
    assert overflow <= 0  # no sideways scrolling on a phone-sized screen


def test_screenshot_shows_the_page(quick_project, tmp_path):
    from PIL import Image

    shot = tmp_path / "report.png"
    browse(load_paths(quick_project).report, tmp_path, "--window-size=1280,2000", f"--screenshot={shot}")
    pixels = Image.open(shot).convert("L")
    assert pixels.size == (1280, 2000)
    low, high = pixels.getextrema()
    assert low < 60 and high > 200  # text and tables drawn, not a blank page
