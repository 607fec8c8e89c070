"""(being written) Converter of official oasis checkpoints; see semsynth/convert/__init__.py for the contract."""
from __future__ import annotations


def convert(source, out, *, size=None, class_set=None, which_epoch="latest"):
    raise NotImplementedError("semsynth convert oasis is not written yet")
