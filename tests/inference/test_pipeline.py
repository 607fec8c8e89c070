import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from semsynth import Pipeline
from semsynth.classes import class_set_to_dict, get_class_set
from semsynth.cli.main import main

pytestmark = pytest.mark.xdist_group("tiny_runs")


@pytest.fixture(scope="module")
def pipe(tiny_runs):
    return Pipeline.from_pretrained(tiny_runs["layout"], tiny_runs["sis-unpaired"])


def test_generate_shapes_determinism_and_chunking(pipe):
    out = pipe.generate(4, seed=3, variants_per_layout=2, batch_size=4)
    assert out.labels.shape == (4, 32, 64) and out.labels.dtype == torch.long
    assert out.colors.shape == (4, 3, 32, 64) and out.colors.dtype == torch.uint8
    assert out.photos.shape == (4, 2, 3, 32, 64) and out.photos.dtype == torch.uint8
    again = pipe.generate(4, seed=3, variants_per_layout=2, batch_size=4)
    assert torch.equal(out.labels, again.labels) and torch.equal(out.photos, again.photos)
    # sample i depends on seed + i only: two chunks give the same layouts and photos as one call
    a, b = pipe.generate(2, seed=3, variants_per_layout=2), pipe.generate(2, seed=5, variants_per_layout=2)
    assert torch.equal(torch.cat([a.labels, b.labels]), out.labels)
    assert torch.equal(torch.cat([a.photos, b.photos]), out.photos)
    assert not torch.equal(out.photos[:, 0], out.photos[:, 1])  # variants use different noise


def test_synthesize_colour_coded_layout_with_off_palette_noise(pipe, tmp_path):
    cs = get_class_set("cityscapes")
    rng = np.random.default_rng(0)
    ids = np.zeros((32, 64), np.int64)
    ids[:10] = 10                      # sky
    ids[10:20] = 2                     # building
    ids[20:] = 0                       # road
    ids[22:28, 5:20] = 13              # a car
    rgb = cs.colorize(ids).astype(np.int16)
    noisy = np.clip(rgb + rng.integers(-8, 9, size=rgb.shape), 0, 255).astype(np.uint8)
    noisy[0:2, 0:4] = (255, 128, 255)  # a few pixels far from every palette colour
    Image.fromarray(noisy).save(tmp_path / "layout.png")
    Image.fromarray(ids.astype(np.uint8)).save(tmp_path / "ids.png")
    out = pipe.synthesize([tmp_path / "layout.png", tmp_path / "ids.png"], seed=0)
    assert out.photos.shape == (2, 1, 3, 32, 64)
    assert (out.labels[0].numpy() == ids)[2:].all()      # noise snapped back to the palette
    assert torch.equal(out.labels[1], torch.from_numpy(ids))  # grey PNG read as ids
    assert 0 < out.far_share < 0.01                       # 8 of 2048 pixels x 2 maps were off-palette


def test_synthesize_rejects_ids_outside_the_class_set(pipe):
    with pytest.raises(ValueError, match="outside class set"):
        pipe.synthesize(torch.full((1, 32, 64), 40))


def test_class_set_mismatch_names_both(tiny_runs, tmp_path):
    other = tmp_path / "camvid-layout"
    shutil.copytree(tiny_runs["layout"] / "model", other)
    meta = json.loads((other / "config.json").read_text())
    meta["classes"] = class_set_to_dict(get_class_set("camvid"))
    (other / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="camvid.*cityscapes"):
        Pipeline.from_pretrained(other, tiny_runs["sis-paired"])


def test_wrong_model_kind_is_refused(tiny_runs):
    with pytest.raises(ValueError, match="expected 'sis'"):
        Pipeline.from_pretrained(tiny_runs["layout"], tiny_runs["image"])


def test_generate_command_writes_ids_colours_photos_and_grid(tiny_runs, tmp_path, capsys):
    assert main(["generate", "--layout", str(tiny_runs["layout"]), "--sis", str(tiny_runs["sis-paired"]),
                 "--n", "3", "--variants", "2", "--batch", "2", "--seed", "1", "--out", str(tmp_path)]) == 0
    for i in range(3):
        label = np.asarray(Image.open(tmp_path / f"{i:05d}_label.png"))
        assert label.shape == (32, 64) and label.max() < 19
        assert np.asarray(Image.open(tmp_path / f"{i:05d}_color.png")).shape == (32, 64, 3)
        for k in range(2):
            assert (tmp_path / f"{i:05d}_photo{k}.png").is_file()
    assert (tmp_path / "grid.png").is_file()
    assert "photos/s" in capsys.readouterr().out


def test_style_guided_synthesis_with_the_exported_vae_encoder(tiny_runs, tmp_path):
    from semsynth.data import load_dataset, to_uint8

    assert (tiny_runs["sis-vae"] / "model" / "encoder" / "config.json").is_file()
    pipe = Pipeline.from_pretrained(None, tiny_runs["sis-vae"])
    assert pipe.style_encoder is not None
    data = load_dataset("synthetic-streets", size=(32, 64), num_scenes=4)
    labels = torch.stack([data[i]["label"] for i in range(3)])
    style_a, style_b = data[3]["image"], data[0]["image"]
    out = pipe.synthesize(labels, seed=2, variants=2, style=style_a)
    assert out.photos.shape == (3, 2, 3, 32, 64)
    assert torch.equal(out.photos, pipe.synthesize(labels, seed=2, variants=2, style=style_a).photos)
    # variant 0 is G(layout, mu of the style photo); variant 1 samples around mu
    mu, std = pipe.encode_style(style_a, 3)
    assert torch.equal(mu[0], mu[2]) and (std > 0).all()
    expected = to_uint8(pipe.sis_generator(pipe.segmap(labels), mu))
    assert torch.equal(out.photos[:, 0], expected)
    assert not torch.equal(out.photos[:, 0], out.photos[:, 1])
    assert not torch.equal(mu, pipe.encode_style(style_b, 3)[0])  # another photo, another style code
    # one style photo per layout, also from PNG files, also through `semsynth generate --style`
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"style{i}.png")
        Image.fromarray(to_uint8(data[i]["image"]).permute(1, 2, 0).numpy()).save(paths[-1])
    per_layout = pipe.synthesize(labels, seed=2, style=paths)
    torch.testing.assert_close(pipe.encode_style(paths, 3)[0][1], pipe.encode_style(paths[1], 1)[0][0])
    assert per_layout.photos.shape == (3, 1, 3, 32, 64)
    with pytest.raises(ValueError, match="one style photo or one per layout"):
        pipe.synthesize(labels, style=paths[:2])
    assert main(["generate", "--layout", str(tiny_runs["layout"]), "--sis", str(tiny_runs["sis-vae"]), "--n", "2",
                 "--style", str(paths[0]), "--out", str(tmp_path / "gen")]) == 0
    assert (tmp_path / "gen" / "00001_photo0.png").is_file()


def test_style_needs_a_model_with_an_encoder(pipe):
    with pytest.raises(ValueError, match="use_vae"):
        pipe.synthesize(torch.zeros(1, 32, 64, dtype=torch.long), style=torch.zeros(3, 32, 64))
