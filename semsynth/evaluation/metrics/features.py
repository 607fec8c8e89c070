"""Feature extraction over a whole image source, and streaming feature statistics.

`FeatureStats` keeps float64 sufficient statistics (sum, sum of outer products, count): memory O(d^2) for any
number of images, and statistics from several processes merge by plain addition (`merge`, `all_reduce`).
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm import tqdm

from semsynth.evaluation.metrics.images import as_batches


class FeatureStats:
    """Running mean / covariance of d-dimensional features in float64."""

    def __init__(self, dim: int = 2048):
        self.dim = int(dim)
        self.count = 0
        self.sum = np.zeros(self.dim, np.float64)
        self.sum_outer = np.zeros((self.dim, self.dim), np.float64)

    def update(self, features: np.ndarray | torch.Tensor) -> "FeatureStats":
        f = features.detach().cpu().double().numpy() if isinstance(features, torch.Tensor) \
            else np.asarray(features, np.float64)
        if f.ndim != 2 or f.shape[1] != self.dim:
            raise ValueError(f"FeatureStats({self.dim}) expects features [N, {self.dim}], got {f.shape}")
        self.count += len(f)
        self.sum += f.sum(0)
        self.sum_outer += f.T @ f
        return self

    def merge(self, other: "FeatureStats") -> "FeatureStats":
        if other.dim != self.dim:
            raise ValueError(f"cannot merge statistics of {other.dim}-d features into {self.dim}-d ones")
        self.count += other.count
        self.sum += other.sum
        self.sum_outer += other.sum_outer
        return self

    def all_reduce(self) -> "FeatureStats":
        """Sum the statistics over every process of the default torch.distributed group (no-op without one)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            flat = torch.from_numpy(np.concatenate([[self.count], self.sum, self.sum_outer.ravel()]))
            flat = flat.to("cuda" if torch.distributed.get_backend() == "nccl" else "cpu")
            torch.distributed.all_reduce(flat)
            flat = flat.cpu().numpy()
            self.count = int(round(flat[0]))
            self.sum = flat[1:1 + self.dim].copy()
            self.sum_outer = flat[1 + self.dim:].reshape(self.dim, self.dim).copy()
        return self

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean [d], unbiased covariance [d, d]) in float64, as np.mean / np.cov compute them."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, have {self.count}")
        mu = self.sum / self.count
        cov = (self.sum_outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return mu, cov

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"count": np.asarray(self.count, np.int64), "sum": self.sum, "sum_outer": self.sum_outer}

    @classmethod
    def from_arrays(cls, arrays) -> "FeatureStats":
        stats = cls(int(arrays["sum"].shape[0]))
        stats.count = int(arrays["count"])
        stats.sum = np.asarray(arrays["sum"], np.float64)
        stats.sum_outer = np.asarray(arrays["sum_outer"], np.float64)
        return stats

    @classmethod
    def of(cls, features: np.ndarray | torch.Tensor) -> "FeatureStats":
        return cls(features.shape[1]).update(features)


def extract_features(images, extractor, batch: int = 50, device=None, progress: bool = True,
                     limit: int | None = None) -> np.ndarray:
    """Features [N, D] (float32) of every image of `images`: a folder path, a semsynth data set (photos), a uint8
    tensor [N, 3, H, W] or an iterable of uint8 batches. `device`: where the extractor runs (None = its own)."""
    if device is not None and hasattr(extractor, "to"):  # plain callables run where they are
        extractor = extractor.to(device)
    out = []
    with tqdm(desc="features", unit="img", disable=not progress, leave=False) as bar:
        for images_uint8 in as_batches(images, batch, limit):
            out.append(extractor(images_uint8).cpu().numpy().astype(np.float32))
            bar.update(len(images_uint8))
    if not out:
        raise ValueError("no images to extract features from")
    return np.concatenate(out)
