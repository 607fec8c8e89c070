"""Find a bundled model by name and check its files against registry.py before anything reads them.

A model is named `NAME[:MEMBER]`: NAME a bundle of registry.BUNDLED (e.g. "synthetic-streets-64x128"), MEMBER one of
its model folders (layout, sis-paired, sis-unpaired, image, segmenter; "paired" / "unpaired" for the SIS ones).
Commands that take a run directory or model folder take such a name too (`resolve_model`): an existing path always
wins, so a folder that happens to share a bundle's name is still read as a folder.
"""
from __future__ import annotations

import os
from pathlib import Path

from semsynth.file_hash import sha256_file
from semsynth.pretrained import registry

ROOT = Path(__file__).parent  # the bundles' folders: semsynth/pretrained/<name>/
DEFAULT_BUNDLE = "synthetic-streets-64x128"
MEMBERS = ("layout", "sis-paired", "sis-unpaired", "image", "segmenter")  # the suite's run names (train/suite.py)
ALIASES = {"paired": "sis-paired", "unpaired": "sis-unpaired"}
CHECKED_SUFFIXES = (".json", ".safetensors")  # files a loader reads: every one must be recorded


def bundled_names() -> list[str]:
    return sorted(registry.BUNDLED)


def _names_line() -> str:
    names = bundled_names()
    return f"bundled: {', '.join(names)}" if names else \
        "this install bundles no models (train them with `semsynth demo --train`)"


def split_spec(spec) -> tuple[str, str | None]:
    """"NAME:MEMBER" -> (NAME, MEMBER with aliases resolved); "NAME" -> (NAME, None)."""
    name, _, member = str(spec).partition(":")
    return name, (ALIASES.get(member, member) if member else None)


def is_bundled_spec(spec) -> bool:
    """True when `spec` names a bundled model (and is not an existing path)."""
    return spec is not None and not Path(spec).exists() and split_spec(spec)[0] in registry.BUNDLED


def _looks_like_name(spec) -> bool:
    return "/" not in str(spec) and os.sep not in str(spec)


def check_files(name: str, member: str | None = None) -> Path:
    """The folder of bundle `name` (or of its `member`) after checking every recorded file's SHA-256, and that no
    unrecorded weights or config file sits beside them. Errors name the file."""
    recorded = registry.BUNDLED[name]
    folder = ROOT / name
    if not folder.is_dir():
        raise FileNotFoundError(f"bundled model {name!r}: its files are not installed ({folder} is missing); "
                                "reinstall semsynth, or train the models with `semsynth demo --train`")
    prefix = "" if member is None else f"{member}/"
    for rel, expected in sorted(recorded.items()):
        if not rel.startswith(prefix):
            continue
        path = folder / rel
        if not path.is_file():
            raise FileNotFoundError(f"{path}: bundled file missing (recorded in semsynth/pretrained/registry.py)")
        found = sha256_file(path)
        if found != expected:
            raise ValueError(f"{path}: SHA-256 {found} differs from {expected} recorded in "
                             "semsynth/pretrained/registry.py; the file is damaged or was replaced, not loaded")
    scope = folder / member if member else folder
    for path in sorted(scope.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and path.suffix in CHECKED_SUFFIXES and rel not in recorded and rel != "manifest.json":
            raise ValueError(f"{path}: not recorded in semsynth/pretrained/registry.py; refusing a bundle holding "
                             "unchecked files")
    return scope


def bundle_members(name: str) -> dict[str, Path]:
    """member -> checked model folder, for every member bundle `name` records (all files checked)."""
    if name not in registry.BUNDLED:
        raise ValueError(f"{name!r} is not a bundled model; {_names_line()}")
    check_files(name)
    present = {rel.split("/", 1)[0] for rel in registry.BUNDLED[name]}
    return {member: ROOT / name / member for member in MEMBERS if member in present}


def resolve_model(spec, default_member: str):
    """A run directory / model folder path (returned unchanged), or a bundled `NAME[:MEMBER]` -> its checked model
    folder (MEMBER defaults to `default_member`). A name-like spec that is neither gets an error listing the
    bundled names; a path-like one is returned for the loader to report as missing."""
    if spec is None or Path(spec).exists():
        return spec
    name, member = split_spec(spec)
    if name not in registry.BUNDLED:
        if _looks_like_name(spec):
            raise FileNotFoundError(f"{spec}: neither a run directory / model folder nor a bundled model name; "
                                    f"{_names_line()}")
        return spec
    member = member or default_member
    present = {rel.split("/", 1)[0] for rel in registry.BUNDLED[name]}
    if member not in present:
        raise ValueError(f"bundled model {name!r} has no {member!r}; it holds {', '.join(sorted(present))}")
    return check_files(name, member)
