"""The bundled pretrained models: name -> {file path inside semsynth/pretrained/<name>/: its SHA-256}.

The hashes live here, in code, not in a manifest beside the files: a damaged or replaced weights file cannot bring
its own matching hash. `semsynth demo --train ... --export-pretrained DIR` prints the entry to paste here after
copying DIR to semsynth/pretrained/<name>/ (see semsynth/pretrained/export.py).
"""
from __future__ import annotations

BUNDLED: dict[str, dict[str, str]] = {}
