"""Checkpoint folders (writing, pruning, corruption checks) and the resumable sampler, without the loop."""
import pytest
import torch
from safetensors.torch import load_file, save_file

from semsynth.train import checkpoint as ckpt
from semsynth.train.sampler import DataPosition, ResumableSampler, endless_batches


def test_save_load_keep_and_stale(tmp_path):
    nets = {"G": torch.nn.Linear(3, 2), "D": torch.nn.BatchNorm1d(2)}
    for step in (1, 2, 3):
        ckpt.save_checkpoint(tmp_path, step, nets, {"nimg": step * 4, "opt": {"lr": torch.tensor(0.5)}}, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["00000002", "00000003"]
    stale = tmp_path / "checkpoints" / f"{ckpt.TMP_PREFIX}00000004-123"
    stale.mkdir()
    (stale / "G.safetensors").write_bytes(b"half")
    assert ckpt.latest_checkpoint(tmp_path).name == "00000003"  # a temp folder is never a checkpoint
    assert ckpt.remove_stale(tmp_path) == [stale] and not stale.exists()
    fresh = {"G": torch.nn.Linear(3, 2), "D": torch.nn.BatchNorm1d(2)}
    state = ckpt.load_checkpoint(tmp_path / "checkpoints" / "00000003", fresh)
    assert state["step"] == 3 and state["nimg"] == 12 and torch.equal(state["opt"]["lr"], torch.tensor(0.5))
    assert torch.equal(fresh["G"].weight, nets["G"].weight)
    with pytest.raises(ValueError, match=r"holds nets \['D', 'G'\], the run has \['G'\]"):
        ckpt.load_checkpoint(tmp_path / "checkpoints" / "00000003", {"G": fresh["G"]})


def test_sampler_shards_like_distributed_sampler_and_resumes_mid_epoch():
    data = list(range(11))
    shards = [list(ResumableSampler(data, num_replicas=2, rank=r, seed=5)) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 5 and not set(shards[0]) & set(shards[1])
    sampler = ResumableSampler(data, seed=5)
    sampler.set_epoch(1)
    epoch1 = list(sampler)
    assert sorted(epoch1) == data and epoch1 != list(ResumableSampler(data, seed=5))  # epoch 0 differs
    sampler.set_start(4)
    assert list(sampler) == epoch1[4:] and len(sampler) == 7


def test_endless_batches_resume_exactly():
    data = [{"x": torch.tensor(i)} for i in range(10)]

    def loader():
        return torch.utils.data.DataLoader(data, batch_size=3, sampler=ResumableSampler(data, seed=1),
                                           drop_last=True, generator=torch.Generator())
    whole = endless_batches(loader(), DataPosition(), seed=1)
    expected = [next(whole)["x"].tolist() for _ in range(8)]  # 3 batches an epoch
    position = DataPosition()
    first = endless_batches(loader(), position, seed=1)
    got = [next(first)["x"].tolist() for _ in range(4)]
    assert (position.epoch, position.consumed) == (1, 1)
    resumed = endless_batches(loader(), DataPosition(position.epoch, position.consumed), seed=1)
    got += [next(resumed)["x"].tolist() for _ in range(4)]
    assert got == expected


@pytest.mark.parametrize("n", [10, 11, 16])
def test_global_batches_do_not_depend_on_the_number_of_processes(n):
    """Global batch k (the union of every rank's k-th batch) is the same set of items for 1, 2 or 4 ranks, also
    started part-way through an epoch: a run resumed on another number of processes continues its data order."""
    data = [{"x": torch.tensor(i)} for i in range(n)]
    batch = 4

    def global_batches(world: int, epoch: int, consumed: int) -> list[set]:
        per_rank = []
        for rank in range(world):
            loader = torch.utils.data.DataLoader(data, batch_size=batch // world, drop_last=True,
                                                 sampler=ResumableSampler(data, world, rank, seed=3),
                                                 generator=torch.Generator())
            batches = endless_batches(loader, DataPosition(epoch, consumed), seed=3)
            per_rank.append([next(batches)["x"].tolist() for _ in range(5)])
        return [set().union(*(per_rank[r][k] for r in range(world))) for k in range(5)]

    for epoch, consumed in [(0, 0), (1, 1)]:
        one = global_batches(1, epoch, consumed)
        assert all(len(b) == batch for b in one)
        assert global_batches(2, epoch, consumed) == one == global_batches(4, epoch, consumed)


def _nets():
    torch.manual_seed(0)
    return {"G": torch.nn.Linear(64, 64), "D": torch.nn.Linear(3, 2)}


def _zero_bytes(path):
    path.write_bytes(b"")


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_tensor_byte(path):
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x01  # a low mantissa bit of the last weight: still a finite number, only the checksum sees it
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("file,damage,message", [
    ("G.safetensors", _zero_bytes, "has 0 bytes"),
    ("state.pt", _truncate, "truncated"),
    ("G.safetensors", _flip_tensor_byte, "SHA-256 differs"),
])
def test_damaged_files_are_named(tmp_path, file, damage, message):
    folder = ckpt.save_checkpoint(tmp_path, 5, _nets(), {"nimg": 20}, keep=3)
    assert (folder / ckpt.MANIFEST_NAME).is_file()
    ckpt.load_checkpoint(folder, _nets())
    damage(folder / file)
    with pytest.raises(ckpt.CorruptCheckpoint, match=message) as err:
        ckpt.load_checkpoint(folder, _nets())
    assert str(folder / file) in str(err.value)


def test_nan_weights_and_nan_optimizer_state_are_rejected(tmp_path):
    nets = _nets()
    with torch.no_grad():
        nets["G"].weight[3, 4] = float("nan")
    folder = ckpt.save_checkpoint(tmp_path, 1, nets, {"nimg": 4}, keep=3)  # a valid manifest: the run wrote NaN
    with pytest.raises(ckpt.CorruptCheckpoint, match=r"G\.safetensors: tensor weight holds NaN or Inf"):
        ckpt.load_checkpoint(folder, _nets())
    folder = ckpt.save_checkpoint(tmp_path, 2, _nets(), {"opt": {"exp_avg": torch.tensor([1.0, float("inf")])}},
                                  keep=3)
    with pytest.raises(ckpt.CorruptCheckpoint, match=r"state\.pt: opt\.exp_avg holds NaN or Inf"):
        ckpt.load_checkpoint(folder, _nets())


def test_checkpoints_without_a_manifest_still_load_and_are_checked_for_finiteness(tmp_path):
    folder = ckpt.save_checkpoint(tmp_path, 1, _nets(), {"nimg": 4}, keep=3)
    (folder / ckpt.MANIFEST_NAME).unlink()  # as written before manifests existed
    fresh = _nets()
    torch.nn.init.zeros_(fresh["G"].weight)
    assert ckpt.load_checkpoint(folder, fresh)["nimg"] == 4
    assert torch.equal(fresh["G"].weight, _nets()["G"].weight)
    tensors = load_file(str(folder / "G.safetensors"))
    tensors["bias"][0] = float("nan")
    save_file(tensors, str(folder / "G.safetensors"))
    with pytest.raises(ckpt.CorruptCheckpoint, match="NaN"):
        ckpt.load_checkpoint(folder, _nets())
    _truncate(folder / "D.safetensors")
    with pytest.raises(ckpt.CorruptCheckpoint, match=r"D\.safetensors: unreadable"):
        ckpt.load_checkpoint(folder, _nets())
