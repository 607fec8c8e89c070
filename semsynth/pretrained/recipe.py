"""How the bundled models are trained (`semsynth demo --train --preset bundle`): the `tiny` presets, the paired SPADE
wider, and the suite's budget shared for what a user looks at first.

History, 64x128 on 2 CPU cores:
- `small` as it is would be 51.4 MB in fp16 (layout 5.74M, paired SIS 7.60M, unpaired 5.89M, single-stage 5.73M,
  segmenter 0.72M values), 3.4x the 15 MB package-data budget; cut to fit (StyleGAN2 channel_max / w 128, SPADE
  ngf 8 / hidden 32: 14.7 MB) it still drew blobs after 21 CPU-minutes (2026-11-27, a loaded machine).
- `tiny` (2.4 MB) drew street-like layouts after 34 minutes on that loaded machine (bundle v1). Its paired SPADE
  (ngf 4) drew blurry photos that followed the layout loosely; ngf 8 / hidden 32 / ndf 16 follows it visibly
  better at 32x64 (train/tasks/sis.py), so the paired model is that width.
- The proxy segmenter at `tiny` widths (8 / 32) read real val photos at mIoU 0.25 (bundle v1) and 0.33 (14
  minutes); at 16 / 64 it reached 0.55 after 38 minutes of one core, 0.563 as shipped (2026-11-28).
- What ships (bundle v2, README "Bundled models"): paired two-stage KID 0.247 at n = 500 (v1: 0.359 at n = 100),
  layouts' isolated-pixel ratio 1.48 (v1: 20).
- Shares: the layout GAN and the paired SPADE make the demo's pictures; the single-stage baseline only has to
  exist (it is the baseline the two-stage pipeline beats), so it gets less than the suite's default.
"""
from __future__ import annotations

BASE_PRESET = "tiny"
BUNDLE_OVERRIDES: dict[str, dict] = {  # suite run name -> task overrides on top of BASE_PRESET and the suite's
    "sis-paired": {"ngf": 8, "spade_hidden": 32, "ndf": 16},
    "segmenter": {"base_channels": 16, "max_channels": 64},
}
BUNDLE_SHARES: dict[str, float] = {  # suite run name -> share of the budget (train/suite.py SUITE has the default)
    "layout": 0.35, "sis-paired": 0.30, "sis-unpaired": 0.15, "image": 0.10, "segmenter": 0.10,
}


def suite_options(preset: str) -> dict:
    """train_suite's preset, run_overrides and shares for a `--preset` name: "bundle" means this recipe, any other
    name is a plain preset."""
    if preset == "bundle":
        return {"preset": BASE_PRESET, "run_overrides": BUNDLE_OVERRIDES, "shares": BUNDLE_SHARES}
    return {"preset": preset, "run_overrides": None, "shares": None}
