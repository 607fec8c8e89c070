"""The shared image reader (semsynth.data.base.read_image) on files no reader should trust: decompression bombs,
16-bit photos and labels, 32-bit pixels, files that are no image."""
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from semsynth.data import CorruptFileError
from semsynth.data.base import read_image
from tests.data import reader_checks as rc
from tests.data.fixtures import HW, make_folder


def png_claiming(path, width: int, height: int):
    """A small valid PNG whose IHDR is patched to claim width x height (the IDAT stays tiny): a decompression bomb."""
    Image.fromarray(np.zeros((4, 4), np.uint8), "L").save(path)
    data = bytearray(path.read_bytes())
    start = 8  # after the signature: length (4), b"IHDR" (4), 13 bytes of header, CRC (4)
    assert data[start + 4:start + 8] == b"IHDR"
    data[start + 8:start + 16] = struct.pack(">II", width, height)
    data[start + 21:start + 25] = struct.pack(">I", zlib.crc32(bytes(data[start + 4:start + 21])))
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("side", [50_000, 10_000])  # far above PIL's limit (it raises) / just above (it warns)
def test_decompression_bomb_is_refused_naming_the_file(tmp_path, side):
    bomb = png_claiming(tmp_path / "bomb.png", side, side)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a PIL DecompressionBombWarning would fail the test too
        for mode in ("RGB", "L"):
            with pytest.raises(CorruptFileError, match="too many pixels") as err:
                read_image(bomb, mode)
            assert str(bomb) in str(err.value) and "\n" not in str(err.value)


def test_a_bomb_is_skipped_and_recorded_with_skip_corrupt(tmp_path):
    fake = make_folder(tmp_path)
    stem = fake.stems[1]
    png_claiming(fake.labels[stem], 50_000, 50_000)
    with pytest.raises(CorruptFileError, match="too many pixels"):
        rc.load("folder", fake)[1]
    ds = rc.load("folder", fake, skip_corrupt=True)
    with pytest.warns(UserWarning, match="skipping corrupt scene"):
        item = ds[1]
    assert item["name"] == fake.stems[2]
    assert len(ds.skipped) == 1 and str(fake.labels[stem]) in ds.skipped[0]


def test_16_bit_grey_photo_is_scaled_to_8_bits(tmp_path):
    ramp = np.linspace(0, 65535, HW[0] * HW[1]).round().astype(np.uint16).reshape(HW)
    path = tmp_path / "photo16.png"
    Image.fromarray(ramp).save(path)
    with Image.open(path) as im:
        assert im.mode == "I;16"
    rgb = read_image(path, "RGB")
    assert rgb.dtype == np.uint8 and rgb.shape == (*HW, 3)
    expected = np.round(ramp / 257.0)
    assert np.abs(rgb[..., 0].astype(float) - expected).max() <= 0.5
    assert (rgb[..., 0] == 255).mean() < 0.01 and (rgb[..., 0] == rgb[..., 2]).all()


def test_48_bit_rgb_photo_keeps_its_tones(tmp_path):
    """A 16-bit-per-channel RGB PNG written by hand (Pillow cannot write one): 0..65535 -> 0..255."""
    h, w = 4, 8
    wide = (np.arange(h * w * 3).reshape(h, w, 3) * (65535 // (h * w * 3 - 1))).astype(">u2")
    raw = b"".join(b"\x00" + wide[y].tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    path = tmp_path / "photo48.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    rgb = read_image(path, "RGB")
    assert rgb.dtype == np.uint8 and rgb.shape == (h, w, 3)
    assert np.abs(rgb.astype(float) - wide / 257.0).max() <= 1.0


def test_32_bit_float_photo_is_refused_clearly(tmp_path):
    path = tmp_path / "photo.tif"
    Image.fromarray(np.full(HW, 0.5, np.float32)).save(path)
    with pytest.raises(CorruptFileError, match="8- or 16-bit") as err:
        read_image(path, "RGB")
    assert str(path) in str(err.value)


def test_16_bit_label_png_holds_ids_not_intensities(tmp_path):
    fake = make_folder(tmp_path)
    stem = fake.stems[0]
    with Image.open(fake.labels[stem]) as im:
        ids = np.asarray(im)
    Image.fromarray(ids.astype(np.uint16)).save(fake.labels[stem])  # the same ids, 16 bits per pixel
    np.testing.assert_array_equal(rc.load("folder", fake)[0]["label"].numpy(), fake.expected_label(0))
    ids16 = ids.astype(np.uint16)
    ids16[0, 0] = 300
    Image.fromarray(ids16).save(fake.labels[stem])
    with pytest.raises(CorruptFileError, match="do not fit the 8-bit id format") as err:
        rc.load("folder", fake)[0]
    assert str(fake.labels[stem]) in str(err.value)


def test_a_file_that_is_no_image_names_the_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    for mode in ("RGB", "L"):
        with pytest.raises(CorruptFileError, match="cannot decode") as err:
            read_image(path, mode)
        assert str(path) in str(err.value)


def test_a_thin_image_warns_once_naming_the_file(tmp_path):
    fake = make_folder(tmp_path)
    thin = {}
    for stem in fake.stems[:2]:  # two thin scenes: 2x800 against a 32x64 target, 200 times off
        Image.fromarray(np.zeros((2, 800), np.uint8), "L").save(fake.labels[stem])
        Image.fromarray(np.zeros((2, 800, 3), np.uint8), "RGB").save(fake.images[stem])
        thin[stem] = fake.labels[stem]
    ds = rc.load("folder", fake, size=(32, 64))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for k in range(len(ds)):
            assert ds[k]["label"].shape == (32, 64)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1, messages
    assert str(thin[fake.stems[0]]) in messages[0] and "2x800" in messages[0] and "cut away" in messages[0]


def test_a_moderately_off_aspect_image_does_not_warn(tmp_path):
    fake = make_folder(tmp_path)  # 48x96 files
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rc.load("folder", fake, size=(64, 64))[0]  # 2x off: cropped, but not worth a warning
