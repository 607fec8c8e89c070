"""Metrics: FID/KID with the standard FID Inception, mIoU, layout metrics. One job per module:
inception (weights + extractor), resize (TF1 bilinear), features (streaming stats), fid, kid, miou, layout,
images (folders/data sets -> uint8 batches), cache (real-set statistics on disk). The FID/KID protocol shared by
`evaluate` and `compare` (cache keys, cached real statistics, KID subsets, small-n warning) is
semsynth.evaluation.protocol."""
from semsynth.evaluation.metrics.cache import cached_real_stats
from semsynth.evaluation.metrics.features import FeatureStats, extract_features
from semsynth.evaluation.metrics.fid import fid_between, fid_from_features, fid_from_stats, frechet_distance
from semsynth.evaluation.metrics.inception import FeatureExtractor, InceptionWeightsNotFound, load_inception
from semsynth.evaluation.metrics.kid import kid_between, kid_from_features
from semsynth.evaluation.metrics.miou import ConfusionMatrix, iou_from_confusion
from semsynth.evaluation.metrics.layout import class_histogram, class_shares, js_divergence, layout_fid

__all__ = ["cached_real_stats", "FeatureStats", "extract_features", "fid_between", "fid_from_features",
           "fid_from_stats", "frechet_distance", "FeatureExtractor", "InceptionWeightsNotFound", "load_inception",
           "kid_between", "kid_from_features", "ConfusionMatrix", "iou_from_confusion", "class_histogram",
           "js_divergence", "layout_fid", "class_shares"]
