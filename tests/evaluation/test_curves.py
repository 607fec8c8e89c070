"""Training curves for the report: stats.jsonl -> plain lists on the kimg axis."""
import json
import math

from semsynth.evaluation.curves import curves_of, read_stats, run_curves


def write_stats(path, records, torn_tail=""):
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + torn_tail)


def test_every_numeric_field_becomes_a_curve_and_gaps_are_none(tmp_path):
    write_stats(tmp_path / "stats.jsonl", [
        {"step": 1, "kimg": 0.5, "seconds": 1.0, "img_per_s": 10.0, "data_wait_share": 0.1, "G/adv": 0.7},
        {"step": 2, "kimg": 1.0, "seconds": 1.0, "img_per_s": 12.0, "data_wait_share": 0.2, "G/adv": math.nan,
         "eval/kid": 0.05, "note": "text is not a curve"},
    ], torn_tail='{"step": 3, "kim')
    curves = run_curves(tmp_path)
    assert curves["kimg"] == [0.5, 1.0]
    assert curves["values"] == {"img_per_s": [10.0, 12.0], "data_wait_share": [0.1, 0.2], "G/adv": [0.7, None],
                                "eval/kid": [None, 0.05]}
    json.dumps(curves, allow_nan=False)  # plain JSON: no NaN


def test_long_logs_are_thinned_keeping_first_and_last():
    records = [{"step": i, "kimg": i / 10, "G/adv": float(i)} for i in range(1000)]
    curves = curves_of(records, max_points=50)
    assert len(curves["kimg"]) == len(curves["values"]["G/adv"]) == 50
    assert curves["values"]["G/adv"][0] == 0 and curves["values"]["G/adv"][-1] == 999
    assert curves["kimg"] == sorted(curves["kimg"])


def test_folders_without_a_log_have_no_curves(tmp_path):
    assert run_curves(tmp_path) is None  # a model folder
    assert run_curves(tmp_path / "segmenter.pt") is None  # a TorchScript file
    (tmp_path / "stats.jsonl").write_text('{"kimg": ')
    assert read_stats(tmp_path / "stats.jsonl") == [] and run_curves(tmp_path) is None
