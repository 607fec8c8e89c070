"""Id tables between class sets, so a layout drawn in one label space can feed a model that takes another.

The case that needs it: semsynth's Cityscapes reader (and every layout GAN trained on it) speaks the 19 train ids
("cityscapes"), while NVIDIA's pretrained Cityscapes SPADE takes the 35 raw labelIds ("cityscapes-raw"). A table
exists only where the correspondence is exact; between any other two class sets `map_labels` refuses, since
guessing by class names would silently feed a model wrong classes.
"""
from __future__ import annotations

import torch

from semsynth.classes import ClassSet, get_class_set

# raw labelId of "unlabeled": where a 19-class layout has no class (ignore), the raw-id model sees "unlabeled",
# the id Cityscapes' own ground truth has there, rather than an all-zero one-hot that it never saw in training
CITYSCAPES_RAW_UNLABELED = 0


def _train_to_raw() -> dict[int, int]:
    train = get_class_set("cityscapes")
    table = {train_id: raw for raw, train_id in train.raw_to_train.items()}
    table[train.ignore_index] = CITYSCAPES_RAW_UNLABELED
    return table


def _raw_to_train() -> dict[int, int]:
    train = get_class_set("cityscapes")
    raw = get_class_set("cityscapes-raw")
    table = {i: train.raw_to_train.get(i, train.ignore_index) for i in range(raw.num_classes)}
    table[raw.ignore_index] = train.ignore_index
    return table


# (from class set, to class set) -> a function building {from id: to id}, every id of the source (+ its ignore)
TABLES = {
    ("cityscapes", "cityscapes-raw"): _train_to_raw,
    ("cityscapes-raw", "cityscapes"): _raw_to_train,
}


def id_table(source: ClassSet, target: ClassSet) -> dict[int, int] | None:
    """{source id: target id} (ignore included), {} when the two are one label space, None when no table exists."""
    if source.names == target.names:
        return {}
    make = TABLES.get((source.name, target.name))
    return None if make is None else make()


def require_table(source: ClassSet, target: ClassSet) -> dict[int, int]:
    """id_table, or ValueError naming both class sets and the tables that exist."""
    table = id_table(source, target)
    if table is None:
        known = ", ".join(f"{a} -> {b}" for a, b in TABLES)
        raise ValueError(f"no id table from class set {source.name!r} ({source.num_classes} classes) to "
                         f"{target.name!r} ({target.num_classes} classes); tables exist for: {known}")
    return table


def map_labels(labels: torch.Tensor, source: ClassSet, target: ClassSet) -> torch.Tensor:
    """LongTensor ids in `source` -> the same layout in `target` ids; ValueError when no table exists."""
    table = require_table(source, target)
    if not table:
        return labels
    lut = torch.full((256,), target.ignore_index, dtype=torch.long)  # ids outside the source: ignore
    for a, b in table.items():
        lut[a] = b
    return lut[labels.long().clamp(0, 255).cpu()].to(labels.device)
