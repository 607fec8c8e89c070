"""Every preset with every --mode / --arch / --output at its real size, through the CLI's dry-run path: the run
resolves, the nets build (on the meta device), and the paper presets give the parameter counts of the official
networks (S:, O:, U:, stylegan2-ada-pytorch, pytorch/examples dcgan). The data set is Cityscapes at a root that does
not exist: a dry run counts its class set (19 train ids) and reads nothing."""
import time

import pytest

from semsynth.cli.main import main
from semsynth.train.config import build_run_config

C = 19  # Cityscapes train ids; labels outputs add the void class (SB-GAN's 19 + 1) -> 20 channels
SIZES = {"tiny": "32x64", "small": "128x256"}
PAPER_SIZES = {"sis": "256x512", "segmenter": "256x512", "image": "256x256", "stylegan2": "256x256", "dcgan": "64x64"}

# counts of the official networks: Stage 2 (SPADE, OASIS/USIS, with its label-channel formulas for n = 19 or 18) and
# Stage 1 (StyleGAN2 paper256, the 20-channel layout rows, DCGAN nz 100 with nc 3 / 20)
PUBLISHED = {
    ("sis", "paired"): {"G": 93_048_003 + (C - 36) * 29_952, "D": 5_601_410 + (C - 36) * 2_048},
    ("sis", "unpaired"): {"G": 71_107_523 + (C - 35) * 27_648, "S": 22_251_364 + (C - 35) * 65, "Dw": 25_333_377},
    ("layout", "stylegan2", "rgb"): {"G": 24_767_458, "D": 24_001_089},
    ("layout", "stylegan2", "labels"): {"G": 24_810_009, "D": 24_002_177},
    ("layout", "dcgan", "rgb"): {"G": 3_576_704, "D": 2_765_568},
    ("layout", "dcgan", "labels"): {"G": 3_594_112, "D": 2_782_976},
    ("image",): {"G": 24_767_458, "D": 24_001_089},
    ("segmenter",): {"S": 22_251_364 + (C - 1 - 35) * 65},  # C outputs = the U-Net D with n = C - 1
}
VARIANTS = ([("sis", "paired"), ("sis", "unpaired")]
            + [("layout", arch, output) for arch in ("stylegan2", "dcgan") for output in ("rgb", "labels")]
            + [("image",), ("segmenter",)])


def argv_of(variant: tuple, preset: str, root) -> list[str]:
    task = variant[0]
    size = SIZES.get(preset) or PAPER_SIZES[variant[1] if task == "layout" else task]
    argv = ["train", task, "--preset", preset, "--data", "cityscapes", "--root", str(root), "--size", size,
            "--dry-run"]
    if task == "sis":
        argv += ["--mode", variant[1]]
    if task == "layout":
        argv += ["--arch", variant[1], "--output", variant[2]] + (["--use-void-class"] if variant[2] == "labels"
                                                                 else [])
    return argv


def parameter_counts(text: str) -> dict[str, int]:
    rows = text[text.index("\nnetwork") + 1:].splitlines()[1:]
    return {row.split()[0]: int(row.split()[1].replace(",", "")) for row in rows if row.strip()}


def test_every_preset_with_every_mode_arch_and_output(tmp_path, monkeypatch, capsys):
    vgg = tmp_path / "vgg19-dcbb9e9d.pth"
    vgg.write_bytes(b"")  # a dry run only checks that the file exists
    monkeypatch.setenv("SEMSYNTH_VGG19", str(vgg))
    start = time.time()
    for variant in VARIANTS:
        for preset in ("tiny", "small", "paper"):
            argv = argv_of(variant, preset, tmp_path / "no-cityscapes-here")
            t0 = time.time()
            code = main(argv)
            captured = capsys.readouterr()
            assert code == 0, f"{' '.join(argv)}\n{captured.err}"
            counts = parameter_counts(captured.out)
            with capsys.disabled():
                print(f"{' '.join(argv[1:]):<110} {time.time() - t0:5.1f} s  "
                      + "  ".join(f"{k} {v:,}" for k, v in counts.items()))
            assert "not read by --dry-run" in captured.out
            if preset == "paper":
                for net, expected in PUBLISHED[variant].items():
                    assert counts[net] == expected, (argv, net, counts[net], expected)
            if "G" in counts:
                assert counts["G_ema"] == counts["G"]
    assert time.time() - start < 60


def test_dcgan_paper_preset_has_the_published_latent_and_overrides_still_win():
    def z_dim(**overrides):
        return build_run_config("layout", preset="paper", task_overrides=overrides).task_config["z_dim"]
    assert z_dim(arch="dcgan") == 100 and z_dim(arch="stylegan2") == 512 and z_dim() == 512
    assert z_dim(arch="dcgan", z_dim=64) == 64
    unpaired = build_run_config("sis", preset="paper", task_overrides={"mode": "unpaired"})
    assert unpaired.task_config["num_upsampling_layers"] == "normal" and unpaired.train.batch == 8
    assert build_run_config("sis", preset="paper").task_config["num_upsampling_layers"] == "more"


def test_preset_variants_of_unknown_fields_are_rejected(monkeypatch):
    from semsynth.train.tasks import layout
    monkeypatch.setitem(layout.PRESETS, "odd", {"task": {}, "variants": {"colour": {"red": {"task": {}}}}})
    with pytest.raises(ValueError, match="unknown keys \\['colour'\\]"):
        build_run_config("layout", preset="odd")


def test_missing_vgg_weights_dry_run_prints_the_table_then_names_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SEMSYNTH_VGG19", raising=False)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    argv = ["train", "sis", "--mode", "paired", "--preset", "small", "--data", "cityscapes", "--root",
            str(tmp_path / "missing"), "--size", "128x256"]
    assert main(argv + ["--dry-run"]) == 2
    captured = capsys.readouterr()
    assert parameter_counts(captured.out)["G"] > 0
    assert "vgg19-dcbb9e9d.pth" in captured.err and str(tmp_path / "torch") in captured.err
    start = time.time()
    assert main(argv + ["--out", str(tmp_path / "run")]) == 2  # the real run: before the (missing) data set
    err = capsys.readouterr().err
    assert "vgg19-dcbb9e9d.pth" in err and "cityscapes" not in err
    assert time.time() - start < 5 and not (tmp_path / "run").exists()
