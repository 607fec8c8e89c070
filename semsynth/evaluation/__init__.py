"""Measuring generated sets: metrics/ (one job per module: Inception, FID, KID, mIoU, layout statistics, the
real-statistics cache), protocol (the one FID/KID protocol of `semsynth evaluate` and `semsynth compare`: cache
keys, cached real statistics, KID subsets, the small-sample warning), compare (two-stage vs single-stage) and
report (its JSON, Markdown and HTML)."""
