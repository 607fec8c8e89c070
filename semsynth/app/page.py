"""The page of `semsynth app` as a gr.Blocks: a canvas to paint a layout, sampling and upload, and "generate".

Every event handler is a thin wrapper around a pure function of semsynth/app/callbacks.py. Errors a user can act on
(ValueError, OSError, a decompression bomb) become gr.Error, which Gradio shows on the page; the server keeps
running. Gradio is imported here only, so `import semsynth` never needs the [app] extra.
"""
from __future__ import annotations

import tempfile
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import numpy as np
from PIL import Image

from semsynth.app import callbacks
from semsynth.app.limits import UploadLimits, is_id_map, read_checked
from semsynth.app.models import AppModels
from semsynth.cli.main import expected_errors

MAX_VARIANTS = 8


def hex_color(rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb))


def legend_html(models: AppModels) -> str:
    """The class names beside their brush colours (the brush palette itself shows colours only)."""
    cs = models.classes
    swatch = ('<span class="semsynth-class" style="display:inline-block;margin:2px 10px 2px 0;white-space:nowrap">'
              '<span style="display:inline-block;width:14px;height:14px;vertical-align:middle;background:{};'
              'border:1px solid #888;margin-right:4px"></span>{}</span>')
    items = [swatch.format(hex_color(c), name) for name, c in zip(cs.names, cs.colors)]
    items.append(swatch.format(hex_color(cs.ignore_color), "ignore (eraser)"))
    return "<div id='legend'>" + "".join(items) + "</div>"


def shares_html(rows: list[tuple[str, float]], colors: dict[str, str]) -> str:
    """A small bar chart of the layout's class shares, one bar per class in its palette colour (plain HTML: it
    needs no plotting library and looks the same everywhere)."""
    bar = ('<div style="display:flex;align-items:center;gap:6px;margin:1px 0"><span style="width:110px;'
           'text-align:right;font-size:12px">{name}</span><span style="display:inline-block;height:12px;width:{pct:.1f}%;'
           'background:{color};border:1px solid #888"></span><span style="font-size:12px">{pct:.1f}%</span></div>')
    body = "".join(bar.format(name=name, pct=100 * share, color=colors[name]) for name, share in rows)
    return f"<div id='share-bars'><b>class shares</b>{body or '<div>(no labelled pixels yet)</div>'}</div>"


@contextmanager
def shown_on_page():
    """Expected errors -> gr.Error (a message on the page) instead of a server-side traceback."""
    try:
        yield
    except gr.Error:
        raise
    except expected_errors() as err:
        raise gr.Error(str(err), print_exception=False) from err


def build_page(models: AppModels, limits: UploadLimits = UploadLimits(), title: str = "semsynth") -> gr.Blocks:
    cs, size = models.classes, models.size
    scale = callbacks.canvas_scale(size)
    out_dir = Path(tempfile.mkdtemp(prefix="semsynth-app-"))
    palette = [hex_color(c) for c in cs.colors]

    def snapped_outputs(ids: np.ndarray):
        """(snapped label map, class-share bars, id-map PNG path) for a layout."""
        path = out_dir / f"layout_ids_{abs(hash(ids.tobytes())) % 10**12}.png"
        Image.fromarray(ids).save(path)
        bars = shares_html(callbacks.share_rows(ids, cs), dict(zip(cs.names, palette)))
        big = np.repeat(np.repeat(cs.colorize(ids), scale, 0), scale, 1)
        return big, bars, str(path)

    def canvas_ids(editor: dict | None) -> np.ndarray:
        if editor is None or editor.get("composite") is None:
            raise ValueError("the canvas is empty: paint a layout, sample one or upload one")
        return callbacks.painting_to_ids(np.asarray(editor["composite"]), cs, size)

    def on_sample(seed, truncation):
        with shown_on_page(), models.layout_lock:
            ids = callbacks.sample_ids(models.layout, seed, truncation)
        return callbacks.ids_to_canvas(ids, cs, scale), *snapped_outputs(ids)

    def on_upload(file):
        if file is None:
            return gr.skip()
        with shown_on_page():
            shown = Path(file).name
            id_map = is_id_map(file)
            pixels = read_checked(file, "L" if id_map else "RGB", limits, shown)
            ids = callbacks.upload_to_ids(pixels, cs, size, id_map)
        return callbacks.ids_to_canvas(ids, cs, scale), *snapped_outputs(ids)

    def on_generate(editor, seed, variants, style_file):
        with shown_on_page():
            ids = canvas_ids(editor)
            style = None
            if style_file is not None:
                style = callbacks.style_tensor(read_checked(style_file, "RGB", limits, Path(style_file).name), size)
            results = []
            for model in models.sis:
                with model.lock:
                    results.append(callbacks.generate_photos(model.pipe, model.name, ids, cs, seed, variants, style))
        galleries = [[(photo, f"seed {int(seed)}, variant {k}") for k, photo in enumerate(r.photos)] for r in results]
        timing = "  \n".join(f"**{r.model}**: {len(r.photos)} photo(s) in {r.seconds:.2f} s"
                             + (" (in the style photo's look)" if r.styled else "") for r in results)
        return *snapped_outputs(ids), *galleries, timing

    with gr.Blocks(title=title) as page:
        gr.Markdown(f"## {title}: paint a street, get a photo\nClass set **{cs.name}**, model size "
                    f"{size[0]}x{size[1]}. Paint with a class colour, erase to leave pixels unlabelled (ignore), "
                    "then press **Generate**.")
        gr.HTML(legend_html(models))
        with gr.Row():
            with gr.Column(scale=3):
                canvas = gr.ImageEditor(
                    value=callbacks.blank_canvas(cs, size, scale), label="layout canvas", elem_id="canvas",
                    image_mode="RGBA", type="numpy", format="png", sources=(), transforms=(), layers=False,
                    canvas_size=(size[1] * scale, size[0] * scale), fixed_canvas=True,
                    brush=gr.Brush(colors=palette, default_color=palette[0], color_mode="fixed",
                                   default_size=max(2, scale * 2)),
                    eraser=gr.Eraser(default_size=max(2, scale * 2)))
                with gr.Row():
                    if models.layout is not None:
                        sample_seed = gr.Number(0, label="layout seed", precision=0, elem_id="sample-seed")
                        truncation = gr.Slider(0.0, 1.0, 0.7, step=0.05, label="truncation", elem_id="truncation")
                        sample_button = gr.Button("Sample a layout", elem_id="sample")
                    upload = gr.File(label="upload an id PNG or a colour-coded PNG", file_types=[".png"],
                                     type="filepath", elem_id="upload")
            with gr.Column(scale=2):
                snapped = gr.Image(label="snapped label map (what the models get)", elem_id="snapped",
                                   interactive=False, format="png")
                shares = gr.HTML(shares_html([], {}), label="class shares", elem_id="shares")
                id_map = gr.File(label="id map (PNG, one class id per pixel)", elem_id="idmap", interactive=False)
        with gr.Row():
            seed = gr.Number(0, label="noise seed", precision=0, elem_id="seed")
            variants = gr.Slider(1, MAX_VARIANTS, 2, step=1, label="photos per model", elem_id="variants")
            style = gr.File(label="style photo (models trained with --use-vae)", file_types=["image"],
                            type="filepath", elem_id="style", visible=models.takes_style)
            generate = gr.Button("Generate", variant="primary", elem_id="generate")
        timing = gr.Markdown(elem_id="timing")
        with gr.Row():
            galleries = [gr.Gallery(label=model.name, elem_id=f"photos-{i}", format="png", columns=2,
                                    height="auto", object_fit="contain", interactive=False)
                         for i, model in enumerate(models.sis)]

        layout_outputs = [canvas, snapped, shares, id_map]
        if models.layout is not None:
            sample_button.click(on_sample, [sample_seed, truncation], layout_outputs, concurrency_id="layout",
                                concurrency_limit=1)
        upload.upload(on_upload, [upload], layout_outputs, concurrency_id="upload", concurrency_limit=1)
        generate.click(on_generate, [canvas, seed, variants, style], [snapped, shares, id_map, *galleries, timing],
                       concurrency_id="sis", concurrency_limit=1)
    return page
