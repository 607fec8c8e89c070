"""Networks. Each model class takes one config dataclass (`Model(cfg)`, kept as `model.cfg`) and is listed in
`ARCHS` (semsynth/models/io.py) so `from_pretrained` can rebuild it from `config.json` without pickle."""
from semsynth.models.io import from_pretrained, save_pretrained

__all__ = ["from_pretrained", "save_pretrained"]
