"""The web app's callbacks as plain functions: paint -> ids, snapping, sample -> canvas, upload, generate -> photos,
class shares, upload limits, and the command line without models."""
import numpy as np
import pytest
import torch
from PIL import Image

from semsynth.app import callbacks
from semsynth.app.limits import UploadLimits, check_upload, read_checked
from semsynth.app.models import load_app_models
from semsynth.app.server import host_warning
from semsynth.cli.main import main
from tests.app.browser_helpers import bomb_png
from tests.helpers.tiny_app_models import export_tiny_models
from tests.helpers.tiny_sets import tiny_classes

SKY, BUILDING, ROAD, CAR = range(4)
SIZE = (32, 64)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    paths = export_tiny_models(tmp_path_factory.mktemp("app_models"), SIZE)
    return load_app_models(str(paths["layout"]), [str(paths["paired"]), str(paths["unpaired"])])


def test_anti_aliased_brush_edges_create_no_stray_class():
    cs = tiny_classes()
    canvas = np.zeros((16, 16, 4), np.uint8)  # transparent: never painted
    canvas[4:12, 4:12] = (*cs.colors[ROAD], 255)
    canvas[3, 4:12] = (*cs.colors[ROAD], 128)  # a half-covered edge row: road blended with the ignore colour
    rgb = callbacks.flatten(canvas, cs.ignore_color)
    naive, _ = cs.quantize(rgb)
    assert BUILDING in np.unique(naive)  # the blend's nearest palette colour is building: the seam to avoid
    ids = callbacks.snap_to_palette(rgb, cs)
    assert set(np.unique(ids)) == {ROAD, cs.ignore_index}
    assert (ids[4:12, 4:12] == ROAD).all() and ids[0, 0] == cs.ignore_index


def test_majority_downsample_keeps_the_block_majority_and_prefers_a_class_on_ties():
    ids = np.full((8, 8), 255, np.uint8)
    ids[:, :3] = ROAD          # block (0, 0): 12 road, 4 ignore -> road
    ids[4:, 4:6] = CAR         # block (1, 1): 8 car, 8 ignore -> car (a class beats ignore on a tie)
    out = callbacks.majority_downsample(ids, (2, 2), 255)
    assert out.tolist() == [[ROAD, 255], [ROAD, CAR]]
    odd = callbacks.majority_downsample(np.full((9, 9), SKY, np.uint8), (2, 2), 255)  # not a multiple: nearest
    assert odd.shape == (2, 2) and (odd == SKY).all()


def test_a_canvas_round_trips_to_the_same_ids():
    cs, scale = tiny_classes(), 4
    ids = np.full(SIZE, 255, np.uint8)
    ids[:10], ids[20:] = SKY, ROAD
    ids[18:22, 5:20] = CAR
    value = callbacks.ids_to_canvas(ids, cs, scale)
    assert value["background"].shape == (SIZE[0] * scale, SIZE[1] * scale, 4)
    assert (value["layers"][0][..., 3][:4] == 255).all() and (value["layers"][0][..., 3][12 * 4] == 0).all()
    assert np.array_equal(callbacks.painting_to_ids(value["composite"], cs, SIZE), ids)
    # the eraser uncovers the background: erased pixels are ignore
    painted = value["composite"].copy()
    painted[:40] = value["background"][:40]
    assert (callbacks.painting_to_ids(painted, cs, SIZE)[:10] == 255).all()


def test_sample_lands_on_the_canvas(models):
    ids = callbacks.sample_ids(models.layout, seed=3, truncation=0.7)
    assert ids.shape == SIZE and ids.dtype == np.uint8
    assert np.array_equal(ids, callbacks.sample_ids(models.layout, seed=3, truncation=0.7))
    scale = callbacks.canvas_scale(SIZE)
    value = callbacks.ids_to_canvas(ids, models.classes, scale)
    assert np.array_equal(callbacks.painting_to_ids(value["composite"], models.classes, SIZE), ids)


def test_generate_gives_photos_per_model_with_seeded_noise(models):
    ids = np.full(SIZE, SKY, np.uint8)
    ids[16:] = ROAD
    paired, unpaired = models.sis
    out = callbacks.generate_photos(unpaired.pipe, unpaired.name, ids, models.classes, seed=0, variants=2)
    assert [p.shape for p in out.photos] == [(*SIZE, 3)] * 2 and out.photos[0].dtype == np.uint8
    assert not np.array_equal(out.photos[0], out.photos[1]) and out.seconds > 0 and not out.styled
    again = callbacks.generate_photos(unpaired.pipe, unpaired.name, ids, models.classes, seed=0, variants=1)
    other = callbacks.generate_photos(unpaired.pipe, unpaired.name, ids, models.classes, seed=1, variants=1)
    assert np.array_equal(again.photos[0], out.photos[0]) and not np.array_equal(other.photos[0], out.photos[0])
    assert paired.name.startswith("paired") and unpaired.name.startswith("unpaired")
    style = callbacks.style_tensor(np.full((100, 50, 3), 200, np.uint8), SIZE)
    assert style.shape == (3, *SIZE)
    styled = callbacks.generate_photos(paired.pipe, paired.name, ids, models.classes, seed=0, variants=1, style=style)
    assert styled.styled and styled.photos[0].shape == (*SIZE, 3)


def test_uploads_id_and_colour_maps(tmp_path):
    cs = tiny_classes()
    ids = np.full((64, 128), SKY, np.uint8)
    ids[32:] = ROAD
    assert np.array_equal(callbacks.upload_to_ids(ids, cs, SIZE, is_id_map=True), ids[::2, ::2])
    assert np.array_equal(callbacks.upload_to_ids(cs.colorize(ids), cs, SIZE, is_id_map=False), ids[::2, ::2])
    with pytest.raises(ValueError, match="uploaded id map"):
        callbacks.upload_to_ids(np.full(SIZE, 40, np.uint8), cs, SIZE, is_id_map=True)


def test_share_rows():
    cs = tiny_classes()
    ids = np.full((4, 4), 255, np.uint8)
    assert callbacks.share_rows(ids, cs) == []
    ids[:2], ids[2, :2] = ROAD, CAR
    assert callbacks.share_rows(ids, cs) == [("road", 0.8), ("car", 0.2)]


def test_upload_limits_name_the_file(tmp_path):
    bomb = bomb_png(tmp_path / "bomb.png")  # past PIL's own limit: refused by PIL's header check
    with pytest.raises(ValueError, match=r"bomb\.png: refused to decode, its header claims too many pixels"):
        check_upload(bomb, UploadLimits())
    big = bomb_png(tmp_path / "big.png", 5000, 5000)  # within PIL's limit, past the app's
    with pytest.raises(ValueError, match=r"big\.png: the image claims 5000x5000 pixels"):
        check_upload(big, UploadLimits(max_bytes=2**20, max_pixels=10**6))
    with pytest.raises(ValueError, match=r"my\.png: the file has .* MiB"):
        check_upload(bomb, UploadLimits(max_bytes=1000), shown_name="my.png")
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "ok.png")
    assert read_checked(tmp_path / "ok.png", "L", UploadLimits()).shape == (20, 30)


def test_app_without_models_says_what_to_pass(capsys, monkeypatch):
    pytest.importorskip("gradio")
    from semsynth.pretrained import registry
    monkeypatch.setattr(registry, "BUNDLED", {})  # an install without bundled models
    assert main(["app"]) == 2
    assert "bundles no models: pass --sis RUN" in capsys.readouterr().err


def test_binding_beyond_this_machine_warns():
    assert host_warning("127.0.0.1") is None
    assert "0.0.0.0" in host_warning("0.0.0.0")


def test_the_page_builds(models):
    gr = pytest.importorskip("gradio")
    from semsynth.app.page import build_page
    assert isinstance(build_page(models), gr.Blocks)


def test_synthesize_input_is_the_snapped_map(models):
    """What the page hands the model is exactly the snapped map (no resampling between the two)."""
    ids = np.full(SIZE, BUILDING, np.uint8)
    out = models.sis[1].pipe.synthesize(torch.from_numpy(ids.astype(np.int64))[None], classes=models.classes)
    assert torch.equal(out.labels[0], torch.from_numpy(ids.astype(np.int64)))


def test_app_without_gradio_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setitem(__import__("sys").modules, "gradio", None)  # as if the [app] extra were not installed
    assert main(["app", "--sis", "runs/sis"]) == 2
    assert "pip install 'semsynth[app]'" in capsys.readouterr().err
