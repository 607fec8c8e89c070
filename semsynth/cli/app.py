"""`semsynth app`: the local web app (semsynth/app/) on http://127.0.0.1:7860. Gradio is an optional extra."""
from __future__ import annotations

import argparse

import torch

from semsynth.cli.options import positive_int


def register(sub) -> None:
    p = sub.add_parser("app", help="a local web app: paint a layout, get photos (needs semsynth[app])",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                       description="Serve a page to paint, sample or upload a layout and see each SIS model's photos "
                                   "of it side by side. Without --sis it opens the bundled small models.")
    p.add_argument("--layout", metavar="RUN|NAME", help="layout run directory or exported model folder (enables "
                   "\"sample a layout\")")
    p.add_argument("--sis", metavar="RUN|NAME", nargs="+", help="one or more SIS (stage-2) runs or model folders, "
                   "shown side by side (e.g. a paired and an unpaired one)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind; anything but 127.0.0.1 opens the app to "
                   "the network (a warning is printed)")
    p.add_argument("--port", type=int, default=7860, help="port to serve on")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="torch device")
    p.add_argument("--max-upload-mb", type=positive_int, default=8, help="largest upload in MiB")
    p.add_argument("--max-upload-mpx", type=positive_int, default=16, help="largest upload in megapixels "
                   "(checked from the header, before decoding)")
    p.set_defaults(func=run)


def run(args) -> int:
    from semsynth.app.limits import UploadLimits
    from semsynth.app.models import NO_BUNDLED_MODELS, bundled_models, load_app_models
    from semsynth.app.server import import_gradio, serve

    import_gradio()  # before loading models: a missing extra is the first thing to say
    layout, sis = args.layout, args.sis
    if sis is None:
        bundled = bundled_models()
        if bundled is None:
            raise ValueError(NO_BUNDLED_MODELS)
        layout, sis = layout or bundled[0], bundled[1]
    models = load_app_models(layout, sis, device=args.device)
    limits = UploadLimits(max_bytes=args.max_upload_mb * 2**20, max_pixels=args.max_upload_mpx * 10**6)
    serve(models, host=args.host, port=args.port, limits=limits)
    return 0
