"""A restricted reader of stylegan2-ada-pytorch network pickles (`network-snapshot-*.pkl`).

Those pickles carry code: every network goes through `torch_utils.persistence`, whose reconstructor `exec`s the
`module_src` stored beside the module's state. The standard unpickler (and `torch.load(weights_only=False)`) would
run it. `SafeUnpickler` resolves only the few globals such a pickle needs, each to a function that rebuilds data:
tensors through `torch.load(weights_only=True)`, numpy scalars from their raw bytes, and the persistence
reconstructor to a function that hands back the saved `meta` dict (class name, state) without ever looking at
`module_src`. Every other global is refused with an error naming it, before anything it names is imported.

`module_state_dict` then walks a reconstructed module's `state` (its `__dict__`: `_parameters`, `_buffers`,
`_modules`) into the usual dotted state-dict names.
"""
from __future__ import annotations

import io
import pickle
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch


class RefusedGlobal(pickle.UnpicklingError, ValueError):
    """The pickle references a global outside the allow-list; `name` is "module.qualname". A ValueError too, so
    the CLI reports it as one line like any other bad input."""

    def __init__(self, name: str, source: str):
        super().__init__(f"{source}: refused to load: the pickle references the global {name!r}, which a "
                         "stylegan2-ada network pickle does not need (nothing was imported or run)")
        self.name = name


def _numpy_dtype(*args):
    dtype = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"numpy dtype {dtype} holds Python objects; refused")
    return dtype


def _numpy_scalar(dtype, data=None):
    """numpy's scalar reconstructor, for plain numeric dtypes only: the value is read from its raw bytes."""
    if not isinstance(dtype, np.dtype) or dtype.hasobject or dtype.kind not in "biufc" or not isinstance(data, bytes):
        raise pickle.UnpicklingError(f"numpy scalar of dtype {dtype!r} refused: only numeric scalars are read")
    return np.frombuffer(data, dtype=dtype, count=1)[0].item()


def _storage_from_bytes(data):
    """A storage saved with torch.save's legacy format; torch's weights-only loader reads it (tensors only)."""
    if not isinstance(data, bytes):
        raise pickle.UnpicklingError("torch.storage._load_from_bytes: expected bytes")
    return torch.load(io.BytesIO(data), weights_only=True, map_location="cpu")


def _check_hooks(hooks, where: str) -> None:
    if hooks:
        raise pickle.UnpicklingError(f"{where}: backward hooks in a network pickle are refused")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    if not isinstance(storage, (torch.UntypedStorage, torch.TypedStorage)):
        raise pickle.UnpicklingError(f"torch._utils._rebuild_tensor_v2: expected a storage, got "
                                     f"{type(storage).__name__}")
    _check_hooks(backward_hooks, "torch._utils._rebuild_tensor_v2")
    if not all(isinstance(v, int) for v in (storage_offset, *size, *stride)):
        raise pickle.UnpicklingError("torch._utils._rebuild_tensor_v2: offset, size and stride must be integers")
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, tuple(size), tuple(stride), False, OrderedDict())


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None):
    """nn.Parameter -> its plain tensor: the reader wants values, not trainable leaves."""
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("torch._utils._rebuild_parameter: expected a tensor")
    _check_hooks(backward_hooks, "torch._utils._rebuild_parameter")
    return data


def _persistent_obj_as_data(meta):
    """torch_utils.persistence's reconstructor, minus the reconstruction: the saved meta (class name, state) as
    data. `module_src` is dropped unread."""
    if not isinstance(meta, dict) or not isinstance(meta.get("class_name"), str) or not isinstance(
            meta.get("state"), dict):
        raise pickle.UnpicklingError("torch_utils.persistence._reconstruct_persistent_obj: expected a meta dict "
                                     "with class_name and state")
    return {k: v for k, v in meta.items() if k != "module_src"}


ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("dnnlib.util", "EasyDict"): dict,
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,   # the name in pickles written with numpy < 2
    ("numpy", "dtype"): _numpy_dtype,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _persistent_obj_as_data,
}


class SafeUnpickler(pickle.Unpickler):
    """Resolves only ALLOWED globals; anything else raises RefusedGlobal without importing it."""

    def __init__(self, file, source: str = "pickle"):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise RefusedGlobal(f"{module}.{name}", self.source) from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"{self.source}: persistent id {str(pid)[:80]!r} refused (a network pickle "
                                     "has none)")


def load(path) -> object:
    """Read a stylegan2-ada pickle at `path` safely: dicts, lists, tensors, numbers, and each persistent
    network as its meta dict {"type", "version", "class_name", "state"}."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            return SafeUnpickler(f, source=str(path)).load()
        except RefusedGlobal:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
                RuntimeError) as err:
            raise ValueError(f"{path}: not a readable stylegan2-ada network pickle ({err})") from err


def is_module(obj) -> bool:
    """Whether `obj` is a persistent network as `load` returns it."""
    return isinstance(obj, dict) and isinstance(obj.get("class_name"), str) and isinstance(obj.get("state"), dict)


def module_state_dict(module: dict, prefix: str = "") -> dict[str, torch.Tensor]:
    """The state dict of a reconstructed module: parameters and persistent buffers of it and its children, with
    the dotted names nn.Module.state_dict would give (`mapping.fc0.weight`, `synthesis.b4.conv1.noise_const`)."""
    state = module["state"]
    skipped = set(state.get("_non_persistent_buffers_set") or ())
    out = {}
    for name, t in (state.get("_parameters") or {}).items():
        if t is not None:
            out[prefix + name] = t
    for name, t in (state.get("_buffers") or {}).items():
        if t is not None and name not in skipped:
            out[prefix + name] = t
    for name, child in (state.get("_modules") or {}).items():
        if child is None:
            continue
        if not is_module(child):
            raise ValueError(f"submodule {prefix + name!r} is not a persistent network object")
        out.update(module_state_dict(child, prefix + name + "."))
    return out


def init_kwargs(module: dict) -> dict:
    """The constructor keyword arguments persistence saved (`_init_kwargs`); positional ones are refused."""
    state = module["state"]
    if state.get("_init_args"):
        raise ValueError(f"{module['class_name']} was built with positional arguments; only keyword arguments "
                         "can be read")
    return dict(state.get("_init_kwargs") or {})
