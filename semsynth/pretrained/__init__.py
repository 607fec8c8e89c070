"""Small pretrained models shipped inside the package (fp16 safetensors + config.json, checked by SHA-256).

registry.py records the files, bundle.py finds and checks them by name, export.py writes a bundle from the runs
of a trained suite. A bundle folder holds one model folder per suite run (layout, sis-paired, sis-unpaired, image,
segmenter), each loadable with semsynth.models.io.from_pretrained."""
from semsynth.pretrained.bundle import (DEFAULT_BUNDLE, bundle_members, bundled_names, is_bundled_spec,
                                        resolve_model)

__all__ = ["DEFAULT_BUNDLE", "bundle_members", "bundled_names", "is_bundled_spec", "resolve_model"]
