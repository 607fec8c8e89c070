"""Bad input to `sample` and `generate` (and any command): one line `semsynth: error: ...` naming the value or the
path, exit status 2, never a traceback."""
import os

import pytest
from PIL import Image, UnidentifiedImageError
from safetensors import SafetensorError

import semsynth.cli.sample as sample_cli
from semsynth.cli.main import main
from tests.data.test_files import png_claiming

pytestmark = pytest.mark.xdist_group("tiny_runs")


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("argv,message", [
    (["sample", "--run", "r", "--n", "0"], "argument --n: expected an integer >= 1, got 0"),
    (["sample", "--run", "r", "--batch", "0"], "argument --batch: expected an integer >= 1, got 0"),
    (["sample", "--run", "r", "--truncation", "nan"], "argument --truncation: expected a finite number, got 'nan'"),
    (["generate", "--sis", "s", "--n", "0"], "argument --n: expected an integer >= 1, got 0"),
    (["generate", "--sis", "s", "--batch", "-3"], "argument --batch: expected an integer >= 1, got -3"),
    (["generate", "--sis", "s", "--variants", "0"], "argument --variants: expected an integer >= 1, got 0"),
    (["generate", "--sis", "s", "--truncation", "inf"], "argument --truncation: expected a finite number"),
    (["generate", "--sis", "s", "--n", "two"], "argument --n: expected an integer >= 1, got 'two'"),
])
def test_bad_numbers_are_usage_errors(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--out", str(tmp_path / "o")])
    assert exit_.value.code == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "o").exists()


def test_a_file_in_the_way_of_the_output_folder(tmp_path, capsys):
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    for argv in (["sample", "--run", "r"], ["generate", "--sis", "s", "--layout", "l"]):
        assert main([*argv, "--out", str(blocker)]) == 2
        line = one_line_error(capsys)
        assert line.startswith("semsynth: error: ") and str(blocker) in line and "is a file" in line
    assert main(["sample", "--run", "r", "--out", str(blocker / "deeper")]) == 2
    assert str(blocker) in one_line_error(capsys)


def test_an_existing_folder_as_a_file_output(tmp_path, capsys):
    folder = tmp_path / "grid.png"
    folder.mkdir()
    assert main(["data", "preview", "--data", "synthetic-streets", "--size", "32x64", "--n", "1",
                 "--out", str(folder)]) == 2
    line = one_line_error(capsys)
    assert line.startswith("semsynth: error: ") and str(folder) in line


def test_an_unwritable_output_folder_simulated(tmp_path, capsys, monkeypatch):
    """Tests run as root, where a read-only folder is still writable: the refusal the OS would give is simulated."""
    out = tmp_path / "out"

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr("pathlib.Path.mkdir", refuse)
    assert main(["sample", "--run", "r", "--out", str(out)]) == 2
    line = one_line_error(capsys)
    assert "Permission denied" in line and str(out) in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder(tmp_path, capsys):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        assert main(["sample", "--run", "r", "--out", str(parent / "out")]) == 2
    finally:
        parent.chmod(0o700)
    assert str(parent / "out") in one_line_error(capsys)


@pytest.mark.parametrize("error", [
    PermissionError(13, "Permission denied", "/x/y.png"), IsADirectoryError(21, "Is a directory", "/x/y.png"),
    NotADirectoryError(20, "Not a directory", "/x/y.png"), UnidentifiedImageError("cannot identify /x/y.png"),
    SafetensorError("/x/y.png: Error while deserializing header"), Image.DecompressionBombError("/x/y.png: big"),
    ValueError("/x/y.png: bad value"),
])
def test_every_expected_error_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch, error):
    def fail(args):
        raise error

    monkeypatch.setattr(sample_cli, "run", fail)
    argv = ["sample", "--run", "r", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    line = one_line_error(capsys)
    assert line.startswith("semsynth: error: ") and "/x/y.png" in line
    monkeypatch.setenv("SEMSYNTH_DEBUG", "1")
    with pytest.raises(type(error)):
        main(argv)


def test_generate_with_layouts_that_are_no_images(tiny_runs, tmp_path, capsys):
    notes = tmp_path / "notes.png"
    notes.write_text("not a picture")
    bomb = png_claiming(tmp_path / "bomb.png", 50_000, 50_000)
    for bad, message in ((notes, "cannot decode"), (bomb, "too many pixels"), (tmp_path / "nope.png", "missing")):
        out = tmp_path / f"out_{bad.stem}"
        assert main(["generate", "--sis", str(tiny_runs["sis-paired"]), "--layouts", str(bad), "--out", str(out),
                     "--device", "cpu"]) == 2
        line = one_line_error(capsys)
        assert str(bad) in line and message in line


def test_generate_refuses_a_folder_with_earlier_outputs(tiny_runs, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["generate", "--layout", str(tiny_runs["layout"]), "--sis", str(tiny_runs["sis-paired"]), "--out", str(out),
            "--device", "cpu", "--variants", "2"]
    assert main([*argv, "--n", "3"]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert "00002_photo1.png" in first
    (out / "notes.txt").write_text("mine")
    assert main([*argv, "--n", "2"]) == 2
    line = one_line_error(capsys)
    assert str(out) in line and "--overwrite" in line
    assert sorted(p.name for p in out.iterdir()) == sorted([*first, "notes.txt"])  # nothing touched
    assert main([*argv, "--n", "2", "--overwrite"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"0000{i}_{kind}.png" for i in range(2) for kind in ("label", "color", "photo0", "photo1")]
        + ["grid.png", "notes.txt"])
