"""torch.compile and bf16 autocast for inference (`--compile`, `--precision` of sample, generate, compare, evaluate).

Compiling costs tens of seconds up front and saves a share of every forward after it, so it pays only above a
number of samples. `BREAK_EVEN` holds that number per architecture, measured on CPU by
bench/compile_break_even.py; `--compile auto` compiles only above it, `on` always, `off` never.

`Accelerated` wraps a network so callers need not change: attribute access (meta, cfg, z_dim, parameters) goes
to the wrapped network. The first call compiles (its time, compile plus that first forward, is `compile_seconds`
and is printed as `[compile] G: 48.2 s`); later calls with a smaller batch are padded to the first call's batch
size, because the graph is compiled for fixed shapes (dynamic=False) and a second shape would compile again.
Padding is safe because every semsynth generator and segmenter treats the samples of a batch independently in
eval mode. A compile failure falls back to the eager network with one warning line.
"""
from __future__ import annotations

import contextlib
import time
import warnings

import torch

MODES = ("auto", "on", "off")
PRECISIONS = ("fp32", "bf16")

# Samples above which compiling pays off: compile seconds / seconds saved per sample, measured by
# bench/compile_break_even.py (batch 16, cold compiles). An architecture is listed only once a measurement shows
# it paying; none has on CPU so far, so `auto` compiles nothing there and `on` is the user's call:
#   2026-11-28, 2-core CPU, torch 2.14.1, stylegan2-generator tiny 32x64, outputs within 6.4e-6:
#   1 thread (one heavy.sh slot): eager 1.89 ms/sample, compiled 2.25 ms/sample (0.84x), compile 53 s: never
#   2 threads (cores shared with 5 other jobs): eager 43.8, compiled 344 ms/sample, compile 403 s: never
#   (the 256x256 figure, 50 s compile and 1.35x faster on an idle machine, is unmeasured here)
# CUDA has not been measured either (no GPU in these sessions): the same table applies until it is.
BREAK_EVEN: dict[str, int] = {}


# Architectures whose eval forward on CPU is faster with channels_last weights: oneDNN then keeps the activations
# NHWC instead of reordering them to and from its blocked layout around every conv. Measured with
# bench/versus_official.py (StyleGAN2 inference 256x256, batch 2, 1 thread): 1.29x -> 1.45x the official code; the
# single conv [2, 64, 256, 256] 64->64 ran 189 -> 131 ms. Not SPADE: its training step ran 0.63x in channels_last,
# and training keeps the default layout (fwd+bwd of the 64x64 StyleGAN2 convs ran 828 -> 1123 ms channels_last).
CHANNELS_LAST_ON_CPU = frozenset({"stylegan2-generator"})


def channels_last_pays(module: torch.nn.Module) -> bool:
    """Whether `prepare` should give `module` channels_last weights: a listed architecture, on the CPU."""
    from semsynth.models.io import ARCHS
    arch = next((name for name, (cls, _) in ARCHS.items() if type(module) is cls), None)
    return arch in CHANNELS_LAST_ON_CPU and _device_of(module).type == "cpu"


def should_compile(mode: str, arch: str | None, n: int) -> bool:
    """Whether to compile a network of `arch` (config.json "arch") that will make `n` samples."""
    if mode not in MODES:
        raise ValueError(f"--compile must be one of {', '.join(MODES)}, got {mode!r}")
    if mode != "auto":
        return mode == "on"
    threshold = BREAK_EVEN.get(arch or "")
    return threshold is not None and n >= threshold


def autocast(device, precision: str):
    """bf16 autocast on the device's type for precision "bf16"; a no-op context for "fp32"."""
    if precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


class Accelerated(torch.nn.Module):
    """`module` called through torch.compile and/or bf16 autocast; outputs come back as float32."""

    def __init__(self, module: torch.nn.Module, name: str, compile: bool, precision: str = "fp32", log=print):
        super().__init__()
        autocast("cpu", precision)  # validates the name before any forward
        self.module = module
        self.name, self.precision, self.log = name, precision, log
        self.compiled = None
        if compile:
            try:
                self.compiled = torch.compile(module, dynamic=False)
            except Exception as err:  # noqa: BLE001 - e.g. a torch built without dynamo support
                _warn_fallback(name, err)
        self.batch: int | None = None             # batch size of the first call: the compiled shape
        self.compile_seconds: float | None = None  # compile + first forward

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)  # parameters, buffers, sub-modules
        except AttributeError:
            return getattr(self._modules["module"], name)  # meta, cfg, z_dim, ... of the wrapped network

    def forward(self, *args, **kwargs):
        device = _device_of(self.module)
        with autocast(device, self.precision):
            out = self._compiled_call(args, kwargs) if self.compiled is not None else self.module(*args, **kwargs)
        return _to_float32(out)

    def _compiled_call(self, args, kwargs):
        n = _batch_of(args, kwargs)
        if self.batch is None:
            self.batch = n
            start = time.perf_counter()
            try:
                out = self.compiled(*args, **kwargs)
            except Exception as err:  # noqa: BLE001 - any compiler failure: run eager instead
                self.compiled = None
                _warn_fallback(self.name, err)
                return self.module(*args, **kwargs)
            self.compile_seconds = time.perf_counter() - start
            self.log(f"[compile] {self.name}: {self.compile_seconds:.1f} s")
            return out
        if n is None or n >= self.batch:
            return self.compiled(*args, **kwargs)
        pad = self.batch - n
        args, kwargs = _pad(args, n, pad), {k: v for k, v in zip(kwargs, _pad(tuple(kwargs.values()), n, pad))}
        return _slice(self.compiled(*args, **kwargs), n)


def prepare(module: torch.nn.Module, name: str, *, compile: bool, precision: str = "fp32",
            log=print) -> torch.nn.Module:
    """`module` itself when neither compile nor bf16 is asked for, else `Accelerated(module, ...)`. Either way the
    module's weights turn channels_last (in place) where that measured faster (`channels_last_pays`); outputs
    are the same to float32 rounding, whatever their layout."""
    if channels_last_pays(module):
        module.to(memory_format=torch.channels_last)
    if not compile and precision == "fp32":
        return module
    return Accelerated(module, name, compile, precision, log)


def compile_seconds(modules: dict[str, object]) -> dict[str, float]:
    """{name: compile seconds} of those `modules` that were compiled (and ran at least once)."""
    return {name: round(m.compile_seconds, 2) for name, m in modules.items()
            if isinstance(m, Accelerated) and m.compile_seconds is not None}


def _warn_fallback(name: str, err: Exception) -> None:
    first_line = str(err).splitlines()[0] if str(err) else ""
    warnings.warn(f"torch.compile of {name} failed, running it eagerly: {type(err).__name__}: {first_line}",
                  stacklevel=4)


def _device_of(module: torch.nn.Module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device("cpu")


def _batch_of(args, kwargs) -> int | None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            return value.shape[0]
    return None


def _pad(values: tuple, n: int, pad: int) -> tuple:
    """Tensors with n rows get `pad` copies of their last row appended; everything else is passed as is."""
    return tuple(torch.cat([v, v[-1:].expand(pad, *v.shape[1:])]) if isinstance(v, torch.Tensor) and v.dim() > 0
                 and v.shape[0] == n else v for v in values)


def _slice(out, n: int):
    if isinstance(out, torch.Tensor):
        return out[:n]
    if isinstance(out, (tuple, list)):
        return type(out)(_slice(o, n) for o in out)
    return out


def _to_float32(out):
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, (tuple, list)):
        return type(out)(_to_float32(o) for o in out)
    return out
