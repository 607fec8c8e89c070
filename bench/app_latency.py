"""Latency of "generate" in the running web app: 50 requests through Gradio's own client, p50/p95 per photo.

Connects to --url, or starts `semsynth app` itself on random small models (`--size 64x128 --preset small`, the
target setting: a photo in <= 1 s on 2 CPU cores). Each request sends a fixed layout (a colour-coded canvas) and
asks every SIS model on the page for --variants photos; the time per photo is the request's wall time divided by
the photos it returned, so it includes the queue, snapping and encoding as a user sees them.

    python bench/app_latency.py [--url http://127.0.0.1:7860/] [--n 50] [--size 64x128] [--preset small]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def layout_png(path: Path, classes, size) -> Path:
    h, w = size
    ids = np.full((h, w), 1, np.uint8)
    ids[: h // 4], ids[h // 2:] = 0, 2
    ids[h // 2 - 2: h // 2 + 3, w // 3: w // 2] = 3
    Image.fromarray(classes.colorize(ids)).save(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app; default: start one on random models")
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--variants", type=int, default=1)
    parser.add_argument("--size", default="64x128")
    parser.add_argument("--preset", default="small")
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    from tests.app.browser_helpers import free_port, start_app, wait_until_serving
    from tests.helpers.tiny_app_models import export_tiny_models
    from tests.helpers.tiny_sets import tiny_classes

    size = tuple(int(v) for v in args.size.split("x"))
    work = Path(tempfile.mkdtemp(prefix="app-latency-"))
    proc = None
    url = args.url
    if url is None:
        models = export_tiny_models(work / "models", size, args.preset)
        port, log = free_port(), work / "app.log"
        proc = start_app(["--sis", str(models["paired"]), str(models["unpaired"])], port, log)
        url = f"http://127.0.0.1:{port}/"
        wait_until_serving(proc, url, log)
    try:
        client = Client(url, verbose=False)
        canvas = handle_file(str(layout_png(work / "layout.png", tiny_classes(), size)))
        editor = {"background": canvas, "layers": [], "composite": canvas}
        per_photo = []
        for i in range(args.n + 1):
            start = time.perf_counter()
            result = client.predict(editor, i, args.variants, None, api_name="/on_generate")
            seconds = time.perf_counter() - start
            photos = sum(len(item) for item in result if isinstance(item, list))
            if i > 0:  # the first request warms up the models and the connection
                per_photo.append(seconds / max(1, photos))
        q = statistics.quantiles(per_photo, n=20)
        print(f"{args.n} generate requests at {size[0]}x{size[1]} ({args.preset} preset, {photos} photos each): "
              f"per photo p50 {statistics.median(per_photo):.3f} s, p95 {q[18]:.3f} s")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
