"""(being written) Converter of official stylegan2_ada checkpoints; see semsynth/convert/__init__.py for the contract."""
from __future__ import annotations


def convert(source, out, *, size=None, class_set=None, which_epoch="latest"):
    raise NotImplementedError("semsynth convert stylegan2_ada is not written yet")
