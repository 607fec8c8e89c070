"""Plain name -> (model class, config class) table used by save/load. Imports are lazy so a model family's
module is only imported when it is used."""
from __future__ import annotations

import importlib

# arch name -> "module:ModelClass:ConfigClass"
ARCHS: dict[str, str] = {
    "stylegan2-generator": "semsynth.models.stylegan2:Generator:GeneratorConfig",
    "stylegan2-discriminator": "semsynth.models.stylegan2:Discriminator:DiscriminatorConfig",
    "dcgan-generator": "semsynth.models.dcgan:Generator:GeneratorConfig",
    "dcgan-discriminator": "semsynth.models.dcgan:Discriminator:DiscriminatorConfig",
    "spade-generator": "semsynth.models.spade:SPADEGenerator:SPADEGeneratorConfig",
    "spade-encoder": "semsynth.models.spade:ConvEncoder:ConvEncoderConfig",
    "spade-discriminator":
        "semsynth.models.discriminators:MultiscalePatchDiscriminator:MultiscalePatchDiscriminatorConfig",
    "unet": "semsynth.models.unet:UNet:UNetConfig",
    "usis-wavelet-generator": "semsynth.models.wavelet_generator:WaveletSPADEGenerator:WaveletSPADEGeneratorConfig",
    "wavelet-discriminator": "semsynth.models.wavelet_discriminator:WaveletDiscriminator:WaveletDiscriminatorConfig",
}


def resolve(arch: str):
    """arch name -> (ModelClass, ConfigClass)."""
    if arch not in ARCHS:
        raise ValueError(f"unknown arch {arch!r}; choose from {sorted(ARCHS)}")
    module, model_cls, cfg_cls = ARCHS[arch].split(":")
    mod = importlib.import_module(module)
    return getattr(mod, model_cls), getattr(mod, cfg_cls)


def arch_name(model) -> str:
    """The ARCHS key of a model instance."""
    for name in ARCHS:
        module, model_cls, _ = ARCHS[name].split(":")
        if type(model).__module__ == module and type(model).__name__ == model_cls:
            return name
    raise ValueError(f"{type(model).__name__} is not listed in semsynth.models.registry.ARCHS")
