"""Losses as small functions / callables, one family per file: gan.py (adversarial + R1), the
files that stage 2 adds (perceptual, segmentation), and diffaug.py (DiffAugment of discriminator inputs)."""
