import numpy as np
import pytest
import torch

from semsynth.data.labels import from_uint8, one_hot, to_uint8


def test_one_hot_ignore_is_all_zero():
    label = torch.tensor([[[0, 2], [255, 1]]])
    oh = one_hot(label, 3)
    assert oh.shape == (1, 3, 2, 2)
    assert oh[0, :, 1, 0].sum() == 0 and oh[0, 2, 0, 1] == 1 and oh.sum() == 3


def test_one_hot_rejects_out_of_range():
    with pytest.raises(ValueError, match="0..2"):
        one_hot(torch.tensor([[[0, 3]]]), 3)


def test_uint8_round_trip():
    x = torch.arange(256, dtype=torch.uint8).view(1, 1, 16, 16).expand(1, 3, 16, 16)
    assert torch.equal(to_uint8(from_uint8(x)), x)


def test_boundary_edges_equal_the_cityscapes_readers_instance_edges():
    from semsynth.data.cityscapes import instance_edges
    from semsynth.data.labels import boundary_edges
    ids = torch.randint(0, 3, (2, 6, 9), generator=torch.Generator().manual_seed(0)).repeat_interleave(2, 2)
    edges = boundary_edges(ids)
    assert edges.shape == (2, 1, 6, 18) and edges.dtype == torch.float32
    for i in range(2):
        assert np.array_equal(edges[i, 0].numpy(), instance_edges(ids[i].numpy()))
    assert not boundary_edges(torch.zeros(1, 4, 4, dtype=torch.long)).any()
