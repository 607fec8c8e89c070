"""`semsynth app`: a local web app to paint a layout and see photos of it (the optional extra `semsynth[app]`).

callbacks.py (pure functions behind the buttons), limits.py (upload limits), models.py (loading, one lock per model),
page.py (the gr.Blocks) and server.py (launch on 127.0.0.1 unless told otherwise). Only page.py and server.py import
Gradio."""
