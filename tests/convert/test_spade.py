"""NVlabs/SPADE checkpoints -> semsynth model folders: parity with the official outputs stored in the fixtures
(spade-cityscapes: G + multiscale D; spade-vae: VAE G + ConvEncoder), loading, the pipeline, and bad inputs."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from semsynth import Pipeline
from semsynth.class_maps import map_labels
from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.cli.main import main
from semsynth.convert.spade import convert
from semsynth.data.cityscapes import instance_edges
from semsynth.data.labels import boundary_edges, make_segmap, to_uint8
from semsynth.models.dcgan import Generator, GeneratorConfig
from semsynth.models.io import from_pretrained, save_pretrained
from tests.convert.fixtures import fixture_case


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """case name -> (fixture folder, converted model folder, the fixture's tensors)"""
    cache = {}

    def get(case: str):
        if case not in cache:
            source = fixture_case(case)
            out = convert(source, tmp_path_factory.mktemp(case) / "model")
            cache[case] = source, out, load_file(str(source / "io.safetensors"))
        return cache[case]
    return get


def check_close(name: str, mine: torch.Tensor, ref: torch.Tensor) -> None:
    """The fixtures README's float32 criterion: max|mine - ref| <= 1e-4 * max(1, max|ref|)."""
    assert mine.shape == ref.shape, (name, mine.shape, ref.shape)
    err = float((mine.float() - ref.float()).abs().max())
    bound = 1e-4 * max(1.0, float(ref.abs().max()))
    print(f"{name}: max abs error {err:.3g} (bound {bound:.3g})")
    assert err <= bound, f"{name}: max abs error {err} > {bound}"


def buffers(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------------------ parity
@pytest.mark.parametrize("case", ["spade-cityscapes", "spade-vae"])
def test_generator_reproduces_the_official_output(converted, case):
    _, out, io = converted(case)
    G = from_pretrained(out)
    assert not G.training
    before = buffers(G)
    with torch.no_grad():
        photo = G(io["input_semantics"].float(), z=io["z"] if "z" in io else None)
    check_close(f"{case}/out", photo, io["out"])
    assert all(torch.equal(before[k], v) for k, v in G.state_dict().items())  # eval calls change no buffer


def test_multiscale_discriminator_reproduces_every_official_feature(converted):
    _, out, io = converted("spade-cityscapes")
    D = from_pretrained(out / "discriminator")
    before = buffers(D)
    with torch.no_grad():  # the official call: D(cat([input_semantics, image], 1))
        feats = D(torch.cat([io["input_semantics"].float(), io["image"]], dim=1))
    names = sorted(k for k in io if k.startswith("d_scale"))
    assert len(names) == sum(len(scale) for scale in feats) == 10
    for i, scale in enumerate(feats):
        for j, feat in enumerate(scale):
            check_close(f"d_scale{i}_layer{j}", feat, io[f"d_scale{i}_layer{j}"])
    assert all(torch.equal(before[k], v) for k, v in D.state_dict().items())


def test_vae_encoder_reproduces_the_official_mu_and_logvar(converted):
    _, out, io = converted("spade-vae")
    E = from_pretrained(out / "encoder")
    with torch.no_grad():
        mu, logvar = E(io["image"])  # 128x256 photo; the encoder resizes to 256x256 itself, as the official one
    check_close("mu", mu, io["mu"])
    check_close("logvar", logvar, io["logvar"])


def test_spectral_norm_uses_the_stored_u_and_v_in_eval(converted):
    """Official eval: W / (u . (W v)) with the checkpoint's u, v and no power iteration; semsynth's
    parametrization must give that weight exactly, and keep u, v untouched."""
    source, out, _ = converted("spade-cityscapes")
    official = torch.load(source / "latest_net_G.pth", weights_only=True)
    G = from_pretrained(out)
    for block, conv in (("head_0", "conv_0"), ("up_0", "conv_s"), ("up_3", "conv_1")):
        w, u, v = (official[f"{block}.{conv}.weight_{s}"] for s in ("orig", "u", "v"))
        expected = w / torch.dot(u, w.flatten(1) @ v)
        mine = getattr(getattr(G, block), conv)
        torch.testing.assert_close(mine.weight, expected, rtol=1e-6, atol=0)
        assert torch.equal(mine.parametrizations.weight[0]._u, u)
        # a power iteration (what training mode would do) moves sigma: the stored u, v are what eval must use
        sigma_iterated = torch.linalg.matrix_norm(w.flatten(1), ord=2)
        assert not torch.allclose(expected, w / sigma_iterated, rtol=1e-6)


def test_instance_edges_match_the_official_edge_channel(converted):
    _, _, io = converted("spade-cityscapes")
    instances = io["instance_map"][:, 0]
    official_edges = io["input_semantics"][:, -1:].float()
    assert torch.equal(boundary_edges(instances), official_edges)
    assert np.array_equal(instance_edges(instances[0].numpy()), official_edges[0, 0].numpy())
    # the official one-hot is make_segmap over the 35 raw ids with the edge channel last
    segmap = make_segmap(io["label_map"][:, 0], 35, 255, edges=official_edges)
    assert torch.equal(segmap, io["input_semantics"].float())


# ------------------------------------------------------------------------------------------------ model folder
def test_model_folder_states_its_options_and_class_set(converted):
    _, out, _ = converted("spade-cityscapes")
    meta = json.loads((out / "config.json").read_text())
    assert meta["arch"] == "spade-generator" and meta["task"] == "sis" and meta["mode"] == "paired"
    assert meta["classes"]["name"] == "cityscapes-raw" and len(meta["classes"]["names"]) == 35
    assert meta["size"] == [64, 128] and meta["label_channels"] == 36 and meta["use_instance_edges"]
    assert meta["config"]["spade_hidden"] == 16 and meta["config"]["ngf"] == 4 and meta["config"]["norm"] == "syncbatch"
    assert meta["edges_without_instances"] == "label-boundaries"
    assert meta["converted_from"]["files"] == ["opt.txt", "latest_net_G.pth", "latest_net_D.pth"]
    assert meta["task_config"]["ndf"] == 8 and meta["task_config"]["use_instance_edges"]
    assert not (out / "encoder").exists()
    _, vae, _ = converted("spade-vae")
    vae_meta = json.loads((vae / "config.json").read_text())
    assert vae_meta["config"]["use_vae"] and vae_meta["config"]["z_dim"] == 256 and vae_meta["size"] == [128, 256]
    assert json.loads((vae / "encoder" / "config.json").read_text())["task"] == "sis-encoder"
    assert not (vae / "discriminator").exists()


def test_cityscapes_train_ids_map_to_raw_ids_and_back():
    train, raw = get_class_set("cityscapes"), get_class_set("cityscapes-raw")
    ids = torch.tensor([[0, 2, 10, 18, 255]])
    as_raw = map_labels(ids, train, raw)
    assert as_raw.tolist() == [[7, 11, 23, 33, 0]]  # road, building, sky, bicycle; ignore -> raw 0 "unlabeled"
    assert [raw.names[i] for i in as_raw[0, :4]] == [train.names[i] for i in ids[0, :4]]
    assert map_labels(as_raw, raw, train).tolist() == [[0, 2, 10, 18, 255]]
    with pytest.raises(ValueError, match="no id table from class set 'camvid'.*'cityscapes-raw'"):
        map_labels(ids, get_class_set("camvid"), raw)


# ------------------------------------------------------------------------------------------------ end to end
def test_convert_then_generate_from_your_own_layout_png(converted, tmp_path):
    source, _, io = converted("spade-cityscapes")
    model = tmp_path / "tmp"
    assert main(["convert", "spade", str(source), "--out", str(model)]) == 0
    raw = io["label_map"][0, 0]  # a 64x128 map of raw Cityscapes ids
    Image.fromarray(raw.numpy().astype(np.uint8)).save(tmp_path / "my_map.png")
    assert main(["generate", "--sis", str(model), "--layouts", str(tmp_path / "my_map.png"),
                 "--out", str(tmp_path / "photos"), "--device", "cpu"]) == 0
    photo = np.asarray(Image.open(tmp_path / "photos" / "00000_photo0.png"))
    assert photo.shape == (64, 128, 3)
    G = from_pretrained(model)
    segmap = make_segmap(raw[None], 35, 255, edges=boundary_edges(raw[None]))  # no instances: class boundaries
    with torch.no_grad():
        expected = to_uint8(G(segmap))[0].permute(1, 2, 0).numpy()
    assert np.array_equal(photo, expected)

    # the same layout in the 19 train ids, said so with --layout-classes, gives the photo of its raw-id form
    train = get_class_set("cityscapes")
    train_ids = torch.from_numpy(train.to_train_ids(raw.numpy())).long()
    Image.fromarray(train_ids.numpy().astype(np.uint8)).save(tmp_path / "train_ids.png")
    assert main(["generate", "--sis", str(model), "--layouts", str(tmp_path / "train_ids.png"), "--layout-classes",
                 "cityscapes", "--out", str(tmp_path / "photos19"), "--device", "cpu"]) == 0
    as_raw = map_labels(train_ids[None], train, get_class_set("cityscapes-raw"))
    with torch.no_grad():
        expected19 = to_uint8(G(make_segmap(as_raw, 35, 255, edges=boundary_edges(as_raw))))[0]
    assert np.array_equal(np.asarray(Image.open(tmp_path / "photos19" / "00000_photo0.png")),
                          expected19.permute(1, 2, 0).numpy())
    assert np.array_equal(np.asarray(Image.open(tmp_path / "photos19" / "00000_label.png")), train_ids.numpy())


def test_a_19_class_layout_gan_in_front_of_the_converted_spade(converted, tmp_path):
    _, model, _ = converted("spade-cityscapes")
    layout = tmp_path / "layout"
    torch.manual_seed(0)
    G = Generator(GeneratorConfig(z_dim=8, resolution=(32, 64), out_channels=19, ngf=4, use_tanh=False))
    save_pretrained(G, layout, extra={"task": "layout", "output": "labels", "void_class": False, "size": [32, 64],
                                      "classes": class_set_to_dict(get_class_set("cityscapes"))})
    pipe = Pipeline.from_pretrained(layout, model)
    assert pipe.layout_classes.name == "cityscapes" and pipe.classes.name == "cityscapes-raw"
    out = pipe.generate(2, seed=1)
    assert out.labels.shape == (2, 64, 128) and int(out.labels.max()) < 19  # train ids, resized to the SIS size
    assert out.photos.shape == (2, 1, 3, 64, 128)
    assert main(["generate", "--layout", str(layout), "--sis", str(model), "--n", "2", "--out",
                 str(tmp_path / "two_stage"), "--device", "cpu"]) == 0
    assert (tmp_path / "two_stage" / "00001_photo0.png").is_file()

    camvid = tmp_path / "camvid-layout"
    shutil.copytree(layout, camvid)
    meta = json.loads((camvid / "config.json").read_text())
    meta["classes"] = class_set_to_dict(get_class_set("camvid"))
    (camvid / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="'camvid'.*'cityscapes-raw'.*no id table"):
        Pipeline.from_pretrained(camvid, model)


# ------------------------------------------------------------------------------------------------ bad input
def _partial_copy(source, folder, skip=(), opt_edit=None):
    """A checkpoint folder in tmp: the fixture's files linked, minus `skip`, with opt.txt edited."""
    folder.mkdir()
    for path in source.iterdir():
        if path.name in skip or path.name in ("case.json", "io.safetensors"):
            continue
        if path.name == "opt.txt" and opt_edit:
            (folder / "opt.txt").write_text(opt_edit(path.read_text()))
        else:
            (folder / path.name).symlink_to(path)
    return folder


@pytest.mark.parametrize("missing", ["opt.txt", "latest_net_G.pth"])
def test_a_missing_file_is_named(tmp_path, capsys, missing):
    source = _partial_copy(fixture_case("spade-cityscapes"), tmp_path / "ckpt", skip=(missing,))
    assert main(["convert", "spade", str(source), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("semsynth: error:") and f"{source / missing} is missing" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_weights_that_disagree_with_opt_txt_name_the_tensor(tmp_path):
    source = _partial_copy(fixture_case("spade-cityscapes"), tmp_path / "ckpt",
                           opt_edit=lambda text: text.replace("ngf: 4 ", "ngf: 8 "))
    with pytest.raises(ValueError, match=r"latest_net_G.pth: tensor 'fc.weight' is \[64, 36, 3, 3\].*ngf=8"):
        convert(source, tmp_path / "out")
    source = _partial_copy(fixture_case("spade-cityscapes"), tmp_path / "ckpt2",
                           opt_edit=lambda text: text.replace("n_layers_D: 4 ", "n_layers_D: 3 "))
    with pytest.raises(ValueError, match=r"latest_net_D.pth: tensor 'discriminator_0.model3.0.0.weight_orig'"):
        convert(source, tmp_path / "out2")


def test_options_opt_txt_cannot_tell_come_from_flags(tmp_path):
    source = _partial_copy(fixture_case("spade-cityscapes"), tmp_path / "ckpt",
                           opt_edit=lambda text: "\n".join(line for line in text.splitlines()
                                                           if "aspect_ratio" not in line))
    with pytest.raises(ValueError, match="'aspect_ratio' is missing from opt.txt; pass --size HxW"):
        convert(source, tmp_path / "out")
    out = convert(source, tmp_path / "out", size=(64, 128))
    assert json.loads((out / "config.json").read_text())["size"] == [64, 128]
    with pytest.raises(ValueError, match="class set 'camvid' has 11 classes.*label_nc=35"):
        convert(source, tmp_path / "out3", size=(64, 128), class_set="camvid")


def test_a_checkpoint_without_batchnorm_step_counters_converts(converted, tmp_path):
    """Checkpoints of PyTorch < 0.4.1 (NVIDIA's releases span that time) lack num_batches_tracked; eval ignores it."""
    source, reference, io = converted("spade-cityscapes")
    folder = _partial_copy(source, tmp_path / "ckpt", skip=("latest_net_G.pth",))
    state = torch.load(source / "latest_net_G.pth", weights_only=True)
    torch.save({k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}, folder / "latest_net_G.pth")
    G = from_pretrained(convert(folder, tmp_path / "out"))
    with torch.no_grad():
        assert torch.equal(G(io["input_semantics"].float()), from_pretrained(reference)(io["input_semantics"].float()))


def test_size_overrides_only_a_convolutional_generator(tmp_path):
    out = convert(fixture_case("spade-cityscapes"), tmp_path / "big", size=(128, 256))
    assert json.loads((out / "config.json").read_text())["size"] == [128, 256]
    with torch.no_grad():
        assert from_pretrained(out)(torch.zeros(1, 36, 128, 256)).shape == (1, 3, 128, 256)
    with pytest.raises(ValueError, match="--size 64x128 differs from 128x256.*Linear start map"):
        convert(fixture_case("spade-vae"), tmp_path / "vae", size=(64, 128))
