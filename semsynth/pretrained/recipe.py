"""How the bundled models are trained: the `small` preset at widths whose five exported models fit the 15 MB
package-data budget in fp16 (`semsynth demo --train --preset bundle`).

Measured with the dry run's meta-device nets at 64x128 (weights + buffers of what is exported): `small` as it is
gives layout 5.74M, paired SIS 7.60M, unpaired SIS 5.89M (the suite's z_dim 8 / wavelet 16), single-stage 5.73M,
segmenter 0.72M values: 51.4 MB in fp16, 3.4x the budget; `tiny` gives 2.4 MB. These widths give 1.66M, 1.97M,
1.56M, 1.65M and 0.52M: 14.7 MB. The StyleGAN2s lose width above 128 channels (the 4x8 and 8x16 blocks) and half
of w, the SPADE/USIS generators half their base width and SPADE's hidden layer.
"""
from __future__ import annotations

BASE_PRESET = "small"
STYLEGAN2 = {"channel_max": 128, "z_dim": 128, "w_dim": 128}
SPADE = {"ngf": 8, "spade_hidden": 32}
BUNDLE_OVERRIDES: dict[str, dict] = {  # suite run name -> task overrides on top of BASE_PRESET and the suite's
    "layout": STYLEGAN2,
    "sis-paired": SPADE,
    "sis-unpaired": SPADE,
    "image": STYLEGAN2,
    "segmenter": {"max_channels": 64},
}
