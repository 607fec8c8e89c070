"""Launch the page: on 127.0.0.1 unless --host says otherwise, never with a public share link, uploads limited in
bytes by Gradio itself and in pixels by every PIL decode in the process, one event per model at a time."""
from __future__ import annotations

import os
import warnings

from PIL import Image

from semsynth.app.limits import UploadLimits
from semsynth.app.models import AppModels

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
INSTALL_HINT = "the web app needs Gradio: pip install 'semsynth[app]'"


def import_gradio():
    """gradio, or a RuntimeError (one line on the command line) that says how to install it (the [app] extra is optional)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # a local tool: no calls home
    try:
        import gradio
    except ImportError as err:
        raise RuntimeError(INSTALL_HINT) from err
    return gradio


def host_warning(host: str) -> str | None:
    if host in LOCAL_HOSTS:
        return None
    return (f"serving on {host}: anyone who can reach this machine can use the app and its CPU/GPU; "
            "the default 127.0.0.1 serves this machine only")


def serve(models: AppModels, host: str = "127.0.0.1", port: int = 7860, limits: UploadLimits = UploadLimits(),
          block: bool = True, quiet: bool = False):
    """Build and launch the page; returns the gr.Blocks (already serving when block=False)."""
    import_gradio()
    from semsynth.app.page import build_page

    warning = host_warning(host)
    if warning:
        warnings.warn(warning, stacklevel=2)
        print(f"warning: {warning}")
    # Gradio decodes the canvas with PIL itself: a crafted request must not decode a bomb there either. PIL refuses
    # images above twice this limit (and warns above it); semsynth's own decoding refuses above it.
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    page = build_page(models, limits)
    page.queue(default_concurrency_limit=1, max_size=64)
    page.launch(server_name=host, server_port=port, share=False, max_file_size=limits.max_bytes, show_error=True,
                prevent_thread_lock=not block, quiet=quiet, ssr_mode=False, inbrowser=False)
    return page
