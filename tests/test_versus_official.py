"""bench/versus_official.py's pure pieces (interleaving, medians, ratios, the table, the missing-code message) and a
tiny CPU dry run of its code paths. Nothing here asserts on a measured time."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import ab_timing, official_code

REPO = Path(__file__).resolve().parents[1]


def test_rounds_alternate_the_order_so_neither_side_always_runs_first():
    assert [ab_timing.round_order(i, 2) for i in range(4)] == [[0, 1], [1, 0], [0, 1], [1, 0]]
    assert [ab_timing.round_order(i, 3) for i in range(3)] == [[0, 1, 2], [1, 2, 0], [2, 0, 1]]


def test_interleaved_times_each_side_per_round_after_its_own_warmup():
    calls = []
    ticks = iter(range(1000))
    fns = [lambda: calls.append("A"), None, lambda: calls.append("C")]
    times, warm = ab_timing.interleaved(fns, rounds=2, warmup=[1, 0, 3], clock=lambda: float(next(ticks)))
    assert calls == ["A", "C", "C", "C"] + ["A", "C"] + ["C", "A"]
    assert [len(t) for t in times] == [2, 0, 2] and warm[1] == 0.0
    assert all(t == 1.0 for side in times for t in side)  # each timed call spans one tick of the fake clock
    assert warm == [1.0, 0.0, 3.0]


def test_compile_time_is_the_warmup_beyond_steady_state():
    assert ab_timing.compile_seconds(12.0, 3, 1.0) == 9.0
    assert ab_timing.compile_seconds(2.0, 3, 1.0) == 0.0
    assert ab_timing.compile_seconds(2.0, 3, None) is None


def test_ratio_is_official_over_semsynth_and_missing_sides_print_as_dashes():
    rows = [ab_timing.Row("G", 2.0, 1.0), ab_timing.Row("D", 3.0, 2.0, compile_s=30.0),
            ab_timing.Row("solo", None, 0.5), ab_timing.Row("RSS", 1200.0, 1000.0, unit="MiB")]
    assert [r.ratio for r in rows] == [2.0, 1.5, None, 1.2]
    text = ab_timing.table(rows)
    lines = text.splitlines()
    assert lines[0] == "| step | official | semsynth | ratio | compile s |"
    assert "| G | 2.000 s | 1.000 s | 2.00 | – |" in lines
    assert "| solo | – | 0.500 s | – | – |" in lines
    assert "| RSS | 1200 MiB | 1000 MiB | 1.20 | – |" in lines
    assert "| D | 3.000 s | 2.000 s | 1.50 | 30.0 |" in lines
    assert ab_timing.median([3.0, 1.0, 2.0]) == 2.0 and ab_timing.median([]) is None


def test_a_missing_clone_names_the_folder_the_url_and_the_commit(tmp_path):
    (tmp_path / "SPADE" / "models").mkdir(parents=True)
    with pytest.raises(official_code.OfficialCodeMissing) as err:
        official_code.check_root(tmp_path)
    message = str(err.value)
    assert str(tmp_path) in message and "stylegan2-ada-pytorch" in message
    assert "git clone https://github.com/NVlabs/stylegan2-ada-pytorch" in message and "d72cc7d" in message
    assert "NVlabs/SPADE" not in message  # that one is there


def test_the_cli_reports_missing_official_code_as_one_error_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "versus_official.py"), "--official-root",
                           str(tmp_path), "--steps", "infer"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-3].startswith(f"versus_official: error: {tmp_path}")
    assert "git clone https://github.com/NVlabs/SPADE" in proc.stderr


def test_stylegan2_auto_config_follows_the_official_train_py():
    assert official_code.auto_config(64) == {"mb": 32, "mbstd": 4, "fmaps": 0.5, "lrate": 0.0025, "map": 2}
    assert official_code.auto_config(1024)["lrate"] == 0.002 and official_code.auto_config(512)["fmaps"] == 1


def test_spade_opt_txt_reads_back_through_semsynths_reader(tmp_path):
    from semsynth.convert.opt_txt import read_opt_txt

    class Stub:
        def state_dict(self):
            return {}

    options = official_code.spade_options(128, 256, 64)
    official_code.write_spade_checkpoint(Stub(), options, tmp_path)
    assert read_opt_txt(tmp_path / "opt.txt") == options


@pytest.mark.slow  # four fresh processes' worth of imports and tiny steps: 30-60 s on a busy 2-core machine
def test_tiny_dry_run_of_the_semsynth_side_with_bf16(tmp_path):
    """Every semsynth code path the CUDA run takes (variants, autocast, the image task's phases, the RSS child),
    on CPU at tiny sizes and without the official code."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(REPO / "bench" / "versus_official.py"), "--tiny", "--pairs", "1",
                           "--rss-pairs", "1", "--bf16", "--steps", "train,infer,spade,rss", "--json",
                           str(tmp_path / "rows.json")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "---" not in line][1:]
    names = [row.split("|")[1].strip() for row in rows]
    assert "StyleGAN2 training iteration 32x32, batch 4" in names
    assert "StyleGAN2 training iteration 32x32, batch 4, semsynth bf16" in names
    assert any(name.startswith("peak RSS") for name in names)
    assert all("| – |" in row for row in rows)  # no official side without --official-root
    assert "git clone https://github.com/NVlabs/stylegan2-ada-pytorch" in proc.stdout
    assert (tmp_path / "rows.json").is_file()


def test_peak_rss_belongs_to_the_child_not_to_its_parent(tmp_path):
    """A child of a process that touched 1.5 GiB reports its own peak (its imports: ~0.5 GiB); ru_maxrss would
    report the parent's."""
    child = "from bench.versus_official import peak_rss_mib; print(peak_rss_mib())"
    parent = tmp_path / "parent.py"
    parent.write_text("import subprocess, sys\n"
                      "big = bytearray(1536 << 20)\n"
                      "big[::4096] = b'x' * len(big[::4096])\n"
                      f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, "
                      "text=True).stdout)\n")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(parent)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout.split()[-1]) < 1200
