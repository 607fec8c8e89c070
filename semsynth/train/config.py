"""Run configuration: the engine's TrainConfig, the DataConfig, and RunConfig (task + both + out dir), with a
JSON round trip that rejects unknown keys. `build_run_config` resolves task defaults -> preset -> overrides."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from semsynth.train.tasks import task_module

PRECISIONS = ("auto", "fp32", "bf16")
EVAL_METRICS = ("auto", "kid", "fid", "miou", "js")  # what picks RUN/model-best (semsynth/train/evaluation_hook.py)
LENGTH_FIELDS = ("total_steps", "total_kimg")
RESUMABLE_CHANGES = ("total_steps", "total_kimg", "time_limit_minutes", "num_workers",  # may differ on --resume
                     "eval_every")


@dataclass(frozen=True)
class TrainConfig:
    batch: int = 8                          # global batch (all ranks together); per-rank batch = batch / world size
    total_steps: int | None = 1000          # run length in optimizer steps; at most one of total_steps / total_kimg
                                            # (neither = until the time limit ends, see `until_time_limit`)
    total_kimg: float | None = None         # run length in thousands of training images
    seed: int = 0                           # seeds torch / numpy / python RNGs (+ rank), the data order and sample grid
    precision: str = "auto"                 # auto = bf16 autocast on CUDA, fp32 on CPU | fp32 | bf16
    channels_last: bool = False             # memory format of the nets and image batches (faster convs on GPUs;
                                            # off on CPU too: a 64x64 StyleGAN2 conv fwd+bwd ran 828 -> 1123 ms
                                            # with it, the SPADE G step 0.63x; only eval forwards gain there)
    compile: bool = False                   # wrap the trained nets in torch.compile
    ema_halflife_kimg: float = 10.0         # half-life of the G_ema average in thousands of images
    ema_rampup: float | None = 0.05         # EMA half-life <= rampup * images seen so far; None = no ramp-up
    checkpoint_every: int = 1000            # steps between checkpoints (one is always written at the end)
    keep_checkpoints: int = 3               # how many of the newest checkpoints to keep
    sample_every: int = 1000                # steps between sample grids; 0 = only at the end
    sample_count: int = 16                  # pictures in a sample grid
    log_every: int = 50                     # steps between stats.jsonl / TensorBoard lines
    num_workers: int = 2                    # DataLoader worker processes; 0 = load in the main process
    max_bad_steps: int = 10                 # consecutive steps with non-finite gradients before the run stops
    time_limit_minutes: float | None = None  # stop cleanly (checkpoint, export) after this; None = no limit
    device: str = "auto"                    # auto = cuda (cuda:LOCAL_RANK under torchrun) if available, else cpu
    init_from: str | None = None            # model or run folder whose weights start the nets (fine-tuning)
    eval_every: float = 0.0                 # kimg between evaluations of the task metrics (-> RUN/model-best); 0 = off
    eval_n: int = 256                       # generated samples (and real items) per evaluation
    eval_metric: str = "auto"               # picks RUN/model-best; auto = kid, else js (layout) or miou (sis)
    eval_segmenter: str | None = None       # sis: segmenter (run or model folder) for the proxy mIoU

    def __post_init__(self):
        if self.total_steps is not None and self.total_kimg is not None:
            raise ValueError("set only one of total_steps (--steps) and total_kimg (--kimg), got "
                             f"total_steps={self.total_steps}, total_kimg={self.total_kimg}")
        if self.total_steps is None and self.total_kimg is None and self.time_limit_minutes is None:
            raise ValueError("set exactly one of total_steps (--steps) and total_kimg (--kimg), or neither with a "
                             "time limit (--time-limit-minutes), got none of them")
        if self.total_steps is not None and self.total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {self.total_steps}")
        if self.total_kimg is not None and self.total_kimg <= 0:
            raise ValueError(f"total_kimg must be > 0, got {self.total_kimg}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; choose from {list(PRECISIONS)}")
        for name in ("batch", "checkpoint_every", "keep_checkpoints", "log_every", "max_bad_steps", "sample_count"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("sample_every", "num_workers"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.ema_halflife_kimg < 0:
            raise ValueError(f"ema_halflife_kimg must be >= 0, got {self.ema_halflife_kimg}")
        if self.time_limit_minutes is not None and self.time_limit_minutes <= 0:
            raise ValueError(f"time_limit_minutes must be > 0 or None, got {self.time_limit_minutes}")
        if self.eval_every < 0:
            raise ValueError(f"eval_every must be >= 0 (0 = no metrics during training), got {self.eval_every}")
        if self.eval_n < 2:
            raise ValueError(f"eval_n must be >= 2 (KID compares pairs), got {self.eval_n}")
        if self.eval_metric not in EVAL_METRICS:
            raise ValueError(f"unknown eval_metric {self.eval_metric!r}; choose from {list(EVAL_METRICS)}")

    def steps(self) -> int | None:
        """Run length in steps (total_kimg rounded up to whole global batches); None = until the time limit."""
        if self.total_steps is not None:
            return self.total_steps
        if self.total_kimg is None:
            return None
        return max(1, -(-int(round(self.total_kimg * 1000)) // self.batch))


@dataclass(frozen=True)
class DataConfig:
    name: str = "synthetic-streets"         # semsynth.data.DATASETS key
    root: str | None = None                 # folder in the set's official layout; None for synthetic-streets
    size: tuple[int, int] = (128, 256)      # (H, W) of training items
    split: str = "train"                    # split trained on
    augment: bool = False                   # random crop + horizontal flip
    skip_corrupt: bool = False              # corrupt image files: False = stop with an error, True = warn and skip
    options: dict = field(default_factory=dict)  # other reader options, e.g. {"appearance": "fixed"} (synthetic)

    def __post_init__(self):
        if len(self.size) != 2 or min(self.size) < 8:
            raise ValueError(f"data size must be (H, W) with both >= 8, got {self.size}")
        object.__setattr__(self, "size", tuple(int(s) for s in self.size))
        if not isinstance(self.options, dict):
            raise ValueError(f"data options must be a mapping of reader option to value, got {self.options!r}")


@dataclass(frozen=True)
class RunConfig:
    task: str = "layout"                               # semsynth.train.tasks.TASKS key
    task_config: dict = field(default_factory=dict)    # the task module's Config as a dict (resolved)
    train: TrainConfig = field(default_factory=TrainConfig)  # engine settings
    data: DataConfig = field(default_factory=DataConfig)     # data set settings
    out: str = "runs/run"                              # run directory
    preset: str | None = None                          # the task preset resolved into it; None = not recorded

    def to_dict(self) -> dict:
        return {"task": self.task, "preset": self.preset, "task_config": _jsonable(self.task_config),
                "train": _jsonable(dataclasses.asdict(self.train)), "data": _jsonable(dataclasses.asdict(self.data)),
                "out": str(self.out)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, d: dict, where: str = "run config") -> RunConfig:
        _check_keys(d, {f.name for f in dataclasses.fields(cls)}, where)
        train = _dataclass_from_dict(TrainConfig, d.get("train", {}), f"{where}: train")
        data = _dataclass_from_dict(DataConfig, d.get("data", {}), f"{where}: data")
        task = d.get("task", cls.task)
        task_config = dict(d.get("task_config", {}))
        task_config_obj(task, task_config, where)  # rejects unknown task keys
        return cls(task=task, task_config=task_config, train=train, data=data, out=str(d.get("out", cls.out)),
                   preset=d.get("preset"))

    @classmethod
    def from_json(cls, path) -> RunConfig:
        path = Path(path)
        try:
            d = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not valid JSON ({err})") from err
        return cls.from_dict(d, where=str(path))


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _check_keys(d: dict, allowed: set[str], where: str) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"{where}: expected an object, got {type(d).__name__}")
    unknown = set(d) - allowed
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}; valid keys are {sorted(allowed)}")


def _dataclass_from_dict(cls, d: dict, where: str):
    _check_keys(d, {f.name for f in dataclasses.fields(cls)}, where)
    try:
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: {err}") from err


def task_config_obj(task: str, task_config: dict, where: str = "task config"):
    """The task module's Config built from a dict (lists become tuples); unknown keys are rejected."""
    return _dataclass_from_dict(task_module(task).Config, task_config, f"{where}: task_config ({task})")


def merge_train(*layers: dict) -> dict:
    """Apply override dicts in order onto TrainConfig's defaults. A layer that sets one run length clears the other;
    a single layer setting both is an error."""
    merged = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    for layer in layers:
        _check_keys(layer, set(merged), "train overrides")
        given = [k for k in LENGTH_FIELDS if layer.get(k) is not None]
        if len(given) == 2:
            raise ValueError("set only one of total_steps (--steps) and total_kimg (--kimg), got both")
        if given:
            merged.update({k: None for k in LENGTH_FIELDS})
        merged.update(layer)
    return merged


def preset_layers(preset: dict, module, task_overrides: dict, where: str) -> list[dict]:
    """[the preset, then its variants that match]: `preset["variants"][field][value]` applies when the task Config's
    `field` resolves to `value` (command line > preset > default). One preset name then fits every --mode / --arch,
    e.g. the DCGAN's published latent is 100 where StyleGAN2's is 512."""
    _check_keys(preset, {"task", "train", "variants"}, where)
    defaults = {f.name: f.default for f in dataclasses.fields(module.Config)}
    resolved = {**defaults, **preset.get("task", {}), **task_overrides}
    layers = [preset]
    for name, by_value in preset.get("variants", {}).items():
        _check_keys({name: None}, set(defaults), f"{where}: variants")
        variant = by_value.get(resolved[name], {})
        _check_keys(variant, {"task", "train"}, f"{where}: variants[{name!r}][{resolved[name]!r}]")
        layers.append(variant)
    return layers


def until_time_limit(train_overrides: dict) -> dict:
    """The overrides, with the run length cleared when they give a time limit but no length: a budget in time is
    then used to its end (a preset's step count is a size for runs without a budget, not a ceiling on one). A
    length the caller sets stays a ceiling."""
    if train_overrides.get("time_limit_minutes") is None or any(
            train_overrides.get(k) is not None for k in LENGTH_FIELDS):
        return train_overrides
    return {**train_overrides, **dict.fromkeys(LENGTH_FIELDS)}


def build_run_config(task: str, data: str = "synthetic-streets", root=None, size=(128, 256), preset: str = "tiny",
                     task_overrides: dict | None = None, train_overrides: dict | None = None,
                     out="runs/run", split: str = "train", augment: bool = False, skip_corrupt: bool = False,
                     data_options: dict | None = None) -> RunConfig:
    """Resolve a run: the task Config's defaults, then PRESETS[preset] of the task module (with its matching
    variants, see `preset_layers`), then the overrides. A time limit without a length trains until it ends
    (`until_time_limit`)."""
    module = task_module(task)
    presets = module.PRESETS
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r} for task {task!r}; choose from {sorted(presets)}")
    layers = preset_layers(presets[preset], module, task_overrides or {}, f"PRESETS[{preset!r}] of {module.__name__}")
    task_layer = {k: v for layer in layers for k, v in layer.get("task", {}).items()}
    task_cfg = dataclasses.asdict(task_config_obj(task, {**task_layer, **(task_overrides or {})}))
    train = _dataclass_from_dict(TrainConfig, merge_train(*[layer.get("train", {}) for layer in layers],
                                                          until_time_limit(train_overrides or {})), "train")
    return RunConfig(task=task, task_config=_jsonable(task_cfg), train=train,
                     data=DataConfig(name=data, root=None if root is None else str(root), size=tuple(size),
                                     split=split, augment=augment, skip_corrupt=skip_corrupt,
                                     options=dict(data_options or {})), out=str(out), preset=preset)


def config_differences(saved: RunConfig, new: RunConfig) -> list[str]:
    """Keys whose values differ in a way that resuming cannot honour, as "section.key: old -> new". The run folder
    (`out`) may differ (a copied or moved run); so may the preset name of a config that did not record one."""
    a, b = saved.to_dict(), new.to_dict()
    # an option added after the run was written (absent from its config) reads as its default, which keeps the
    # old behaviour (e.g. diffaug "")
    defaults = _jsonable(dataclasses.asdict(task_config_obj(new.task, {}))) if saved.task == new.task else {}
    a["task_config"] = {**defaults, **a["task_config"]}
    for d in (a, b):
        for k in RESUMABLE_CHANGES:
            d["train"].pop(k)
        d.pop("out")
        if saved.preset is None:
            d.pop("preset")
    diffs = []
    for section in a:
        if isinstance(a[section], dict):
            for k in sorted(set(a[section]) | set(b[section])):
                if a[section].get(k) != b[section].get(k):
                    diffs.append(f"{section}.{k}: {a[section].get(k)!r} -> {b[section].get(k)!r}")
        elif a[section] != b[section]:
            diffs.append(f"{section}: {a[section]!r} -> {b[section]!r}")
    return diffs
