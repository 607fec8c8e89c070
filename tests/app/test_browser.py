"""End to end in a real browser: `semsynth app` with tiny random models in a subprocess, driven by the system
Chromium through Playwright. Paint a "road" stroke, generate, check the photos and the downloaded id map, then
upload a decompression bomb and see the message on the page while the server keeps serving.

No browser is a failure with the install command, never a skip: this test is what says the app works.
Set SEMSYNTH_ARTIFACTS=DIR to keep the screenshot after "generate" as DIR/app.png."""
from __future__ import annotations

import io
import os
import re
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.app.browser_helpers import (INSTALL_CHROMIUM, bomb_png, find_chromium, free_port, is_serving, start_app,
                                       wait_until_serving)
from tests.helpers.tiny_app_models import export_tiny_models
from tests.helpers.tiny_sets import tiny_classes

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.slow]

SIZE = (32, 64)
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("app")
    models = export_tiny_models(root / "models", SIZE)
    port, log = free_port(), root / "app.log"
    proc = start_app(["--layout", str(models["layout"]), "--sis", str(models["paired"]), str(models["unpaired"])],
                     port, log)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(proc, url, log)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def photo_arrays(page, gallery: str) -> list[np.ndarray]:
    images = page.locator(f"{gallery} img")
    return [np.asarray(Image.open(io.BytesIO(page.request.get(images.nth(i).get_attribute("src")).body())))
            for i in range(images.count())]


def wait_for_photos(page, count: int) -> None:
    for gallery in ("#photos-0", "#photos-1"):
        page.wait_for_function(f"document.querySelectorAll('{gallery} img').length >= {count}", timeout=TIMEOUT_MS)


def test_paint_generate_download_and_refuse_a_bomb(app_url, tmp_path):
    chromium = find_chromium()
    if chromium is None:
        pytest.fail(INSTALL_CHROMIUM)
    from playwright.sync_api import sync_playwright

    url, proc = app_url
    road = tiny_classes().names.index("road")
    road_rgb = ", ".join(str(int(v)) for v in tiny_classes().colors[road])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])  # root needs --no-sandbox
        page = browser.new_page(viewport={"width": 1400, "height": 1100}, accept_downloads=True)
        page.goto(url)
        page.wait_for_selector("#canvas canvas", timeout=TIMEOUT_MS)

        # paint a horizontal "road" stroke across the lower part of the canvas
        page.locator("#canvas button[aria-label='Color']").click()
        page.locator(f"#canvas button.color[style*='rgb({road_rgb})']").click()
        page.locator("#canvas button[aria-label='Brush']").click()
        box = page.locator("#canvas canvas").first.bounding_box()
        y = box["y"] + 0.75 * box["height"]
        page.mouse.move(box["x"] + 0.2 * box["width"], y)
        page.mouse.down()
        for step in range(1, 21):
            page.mouse.move(box["x"] + (0.2 + 0.03 * step) * box["width"], y)
        page.mouse.up()

        page.locator("#generate").click()
        wait_for_photos(page, 2)
        page.wait_for_selector("#timing :text('photo(s) in')", timeout=TIMEOUT_MS)
        screenshot = tmp_path / "app.png"
        page.screenshot(path=str(screenshot), full_page=True)
        if os.environ.get("SEMSYNTH_ARTIFACTS"):
            os.makedirs(os.environ["SEMSYNTH_ARTIFACTS"], exist_ok=True)
            shutil.copy(screenshot, os.path.join(os.environ["SEMSYNTH_ARTIFACTS"], "app.png"))
        first = {gallery: photo_arrays(page, gallery) for gallery in ("#photos-0", "#photos-1")}
        for photos in first.values():
            assert [photo.shape[:2] for photo in photos] == [SIZE, SIZE]
        assert not np.array_equal(*first["#photos-1"]), "the unpaired model's two noise variants are identical"
        assert re.search(r"road\s*100\.0%", page.inner_text("#shares")), page.inner_text("#shares")

        # the id map holds road where the stroke was (the middle of the stroke, in model pixels)
        with page.expect_download() as download:
            page.locator("#idmap a").first.click()
        ids = np.asarray(Image.open(download.value.path()))
        assert ids.shape == SIZE
        assert ids[int(0.75 * SIZE[0]), int(0.5 * SIZE[1])] == road
        assert (ids == road).sum() >= 10 and set(np.unique(ids)) <= {road, 255}

        # another noise seed, other photos
        before = page.locator("#photos-1 img").first.get_attribute("src")
        page.locator("#seed input").fill("1")
        page.locator("#generate").click()
        page.wait_for_function("(old) => { const img = document.querySelector('#photos-1 img'); "
                               "return img !== null && img.src !== old; }", arg=before, timeout=TIMEOUT_MS)
        wait_for_photos(page, 2)
        second = photo_arrays(page, "#photos-1")
        assert not np.array_equal(first["#photos-1"][0], second[0]), "noise seeds 0 and 1 gave the same photo"

        # a decompression bomb: refused with a message on the page, and the server keeps serving
        page.locator("#upload input[type=file]").set_input_files(str(bomb_png(tmp_path / "bomb.png")))
        page.get_by_text(re.compile(r"bomb\.png: .*too many pixels")).first.wait_for(timeout=TIMEOUT_MS)
        assert proc.poll() is None and is_serving(url)
        browser.close()
