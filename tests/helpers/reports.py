"""A compare report written by hand: every plot's numbers, no models and no Inception."""

CLASSES = ["road", "sky", "car"]


def hand_made_report(**extra) -> dict:
    """A compare report with every plot's numbers, by hand (no models, no Inception)."""
    curve = {"kimg": [0.0, 0.5, 1.0], "values": {"G/adv": [0.7, 0.6, None], "D/hinge": [2.0, 1.9, 1.8],
                                                 "img_per_s": [10, 11, 12], "data_wait_share": [0.1, 0.0, 0.2]}}
    return {
        "data": "synthetic-streets", "split": "val", "n": 8, "seed": 0, "resolution": [32, 64], "truncation": 1.0,
        "fid_protocol": {"weights_sha256": "stand-in", "kid_subsets": 100, "kid_subset_size": 4}, "warnings": [],
        "classes": CLASSES,
        "rows": [{"name": "generated layouts", "fid": 10.0, "kid_mean": 0.01, "kid_std": 0.002},
                 {"name": "two-stage photos (paired SIS)", "fid": 40.0, "kid_mean": 0.03, "kid_std": 0.004,
                  "per_class_iou": [0.9, None, 0.2]},
                 {"name": "single-stage photos (StyleGAN2)", "fid": None, "kid_mean": None, "kid_std": None}],
        "segmenter": {"path": "seg", "miou_real": 0.5, "per_class_iou_real": [0.95, 0.8, 0.4]},
        "layout_statistics": {"class_shares": {"real": [0.5, 0.3, 0.2], "generated": [0.6, 0.3, 0.1]},
                              "boundary_fraction": {"real": 0.1, "generated": 0.2},
                              "isolated_fraction": {"real": 0.001, "generated": 0.01}},
        "curves": {"layout": {"run": "runs/layout", **curve},
                   "segmenter": {"run": "runs/segmenter", "kimg": [2.0], "values": {"S/ce": [1.0], "img_per_s": [5],
                                                                                     "eval/miou": [0.3]}}},
        **extra,
    }
