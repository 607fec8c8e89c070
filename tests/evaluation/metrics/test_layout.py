"""Layout metrics: class-share histograms, JS divergence, share table, FSD, colourised batches, layout FID."""
import numpy as np
import pytest
import torch

from semsynth.classes import get_class_set
from semsynth.evaluation.metrics.fid import fid_from_features
from semsynth.evaluation.metrics.layout import (boundary_fraction, class_counts, class_histogram, class_proportions,
                                                class_shares, colorized_batches, fsd, isolated_fraction,
                                                js_divergence, layout_fid, neighbour_fractions, neighbour_ratios,
                                                share_table)


def test_histogram_excludes_ignore_and_sums_to_one():
    labels = torch.tensor([[[0, 0, 1, 255], [2, 2, 2, 255]]])
    hist = class_histogram([labels, labels], num_classes=4)
    np.testing.assert_allclose(hist, [2 / 6, 1 / 6, 3 / 6, 0])
    np.testing.assert_allclose(class_shares(torch.cat([labels, labels]), 4), hist)  # one tensor, same shares
    with pytest.raises(ValueError, match="0..3"):
        class_counts(torch.tensor([[4]]), 4)
    with pytest.raises(ValueError, match="every pixel is ignore"):
        class_histogram([torch.full((1, 2, 2), 255)], 4)


def test_js_divergence_properties():
    rng = np.random.default_rng(0)
    p, q = rng.random(6), rng.random(6)
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-12)
    assert js_divergence(p, 3 * p) == pytest.approx(0, abs=1e-12)  # histograms are normalised first
    assert js_divergence(p, q) == pytest.approx(js_divergence(q, p), abs=1e-15)
    assert 0 < js_divergence(p, q) < 1
    assert js_divergence([1, 1, 0, 0], [0, 0, 2, 1]) == pytest.approx(1.0)  # disjoint supports: 1 bit
    # a hand value: p = [1, 0], q = [1/2, 1/2] -> m = [3/4, 1/4]
    expected = 0.5 * np.log2(4 / 3) + 0.5 * (0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25))
    assert js_divergence([1, 0], [0.5, 0.5]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="non-negative"):
        js_divergence([1, -1], [1, 1])


def test_share_table_and_fsd():
    rows = share_table(np.array([0.5, 0.5]), np.array([0.25, 0.75]), ["road", "sky"])
    assert rows[1] == {"class": "sky", "real": 0.5, "fake": 0.75, "diff": 0.25}
    g = torch.Generator().manual_seed(0)
    a = torch.randint(0, 3, (10, 8, 8), generator=g)
    b = torch.where(torch.rand(10, 8, 8, generator=g) < 0.7, 0, torch.randint(0, 3, (10, 8, 8), generator=g))
    pa, pb = class_proportions([a], 3), class_proportions([b], 3)
    np.testing.assert_allclose(pa.sum(1), 1)
    assert fsd(pa, pa) == pytest.approx(0, abs=1e-9)
    assert fsd(pa, pb) == pytest.approx(fid_from_features(pa, pb), rel=1e-9)
    assert fsd(pa, pb) > 0.1


def test_colorized_batches_use_the_palette():
    cs = get_class_set("cityscapes")
    labels = torch.tensor([[[0, 10], [255, 13]]])
    (img,) = list(colorized_batches([labels], cs))
    assert img.dtype == torch.uint8 and img.shape == (1, 3, 2, 2)
    assert img[0, :, 0, 0].tolist() == [128, 64, 128] and img[0, :, 1, 0].tolist() == [0, 0, 0]


def test_layout_fid_goes_through_the_feature_extractor():
    cs = get_class_set("cityscapes")

    def colour_stats(images):  # a stand-in extractor: per-channel means and stds of the colour images
        x = images.float()
        return torch.cat([x.mean((2, 3)), x.std((2, 3))], 1)
    g = torch.Generator().manual_seed(1)
    real = [torch.randint(0, 19, (6, 8, 16), generator=g)]
    fake = [torch.randint(0, 3, (6, 8, 16), generator=g)]
    value = layout_fid(real, fake, cs, colour_stats)
    expected = fid_from_features(torch.cat([colour_stats(b) for b in colorized_batches(real, cs)]),
                                 torch.cat([colour_stats(b) for b in colorized_batches(fake, cs)]))
    assert value == pytest.approx(expected, rel=1e-9) and value > 1
    assert layout_fid(real, real, cs, colour_stats) == pytest.approx(0, abs=1e-6)


@pytest.mark.parametrize("grid, boundary, isolated", [
    ([[0, 0], [0, 0]], 0, 0),                    # one region: no boundary, nothing alone
    ([[0, 1], [1, 0]], 1, 1),                    # checkerboard: every pixel on a boundary and alone
    ([[0, 0, 0], [0, 1, 0], [0, 0, 0]], 5 / 9, 1 / 9),  # one speck: it and its 4 neighbours; corners untouched
    ([[0, 0, 1, 1]], 2 / 4, 0),                  # a one-row strip: the two pixels either side of the edge
    ([[0, 0, 255], [0, 0, 255]], 0, 0),          # ignore pixels are not counted
    ([[0, 255, 0]], 0, 1),                       # an ignore neighbour is neither same nor other class
    ([[0, 255, 1]], 0, 1),                       # ... even between two classes
    ([[3]], 0, 1),                               # no neighbours at all: alone
])
def test_boundary_and_isolated_fractions_of_hand_made_maps(grid, boundary, isolated):
    labels = torch.tensor([grid])
    assert boundary_fraction(labels) == pytest.approx(boundary)
    assert isolated_fraction(labels) == pytest.approx(isolated)
    assert neighbour_fractions(labels[0]) == pytest.approx(  # one [H, W] map works too
        {"boundary_fraction": boundary, "isolated_fraction": isolated})


def test_neighbour_fractions_pool_pixels_over_batches_and_never_cross_maps():
    speck = torch.tensor([[[0, 0, 0], [0, 1, 0], [0, 0, 0]]])
    flat = torch.zeros(1, 3, 3, dtype=torch.long)
    pooled = neighbour_fractions([speck, flat])
    assert pooled == pytest.approx({"boundary_fraction": 5 / 18, "isolated_fraction": 1 / 18})
    assert neighbour_fractions(torch.cat([speck, flat])) == pooled  # maps stacked in N do not touch
    assert neighbour_fractions(torch.tensor([[[0, 1]], [[1, 1]]]))["boundary_fraction"] == pytest.approx(2 / 4)
    with pytest.raises(ValueError, match="every pixel is ignore"):
        neighbour_fractions(torch.full((1, 2, 2), 255))


def test_neighbour_ratios_are_generated_over_real_and_none_for_a_zero_real_fraction():
    real = neighbour_fractions(torch.tensor([[[0, 0, 1, 1]]]))               # boundary 1/2, isolated 0
    speckled = neighbour_fractions(torch.tensor([[[0, 1], [1, 0]]]))          # boundary 1, isolated 1
    assert neighbour_ratios(real, speckled) == {"boundary_ratio": pytest.approx(2.0), "isolated_ratio": None}
    assert neighbour_ratios(speckled, real) == {"boundary_ratio": pytest.approx(0.5), "isolated_ratio": 0.0}
