"""Stage 2, paired (`semsynth train sis --mode paired`): SPADE (Park et al. 2019, "Semantic Image Synthesis with
Spatially-Adaptive Normalization"). G (SPADE or OASIS family generator, + the VAE encoder E when use_vae) against a
multi-scale PatchGAN D with hinge loss, D feature matching, VGG-19 perceptual loss and KL.

With `diffaug`, D's (label map, photo) inputs go through DiffAugment: one draw per image index moves and cuts
the label map and both photos (fake and real of that layout) alike, so feature matching still compares like with
like; colour touches the photos only.

Label maps become generator input in `make_segmap`: one-hot train ids, ignore pixels all-zero or (use_dontcare)
their own last channel, then (use_instance_edges) one instance-boundary channel. Users reach this task through
`semsynth train sis` (sis.py: its options are the union of this Config and usis.Config, its presets per --mode),
which hands this module its share of the options as a `Config`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from semsynth.classes import class_set_to_dict
from semsynth.data.labels import colorize_batch, make_segmap, to_uint8
from semsynth.losses.diffaug import apply, draw, parse_policy
from semsynth.losses.gan import d_hinge, g_hinge
from semsynth.losses.matching import feature_matching, kl_divergence
from semsynth.losses.perceptual import VGGLoss, find_vgg19_weights
from semsynth.models.discriminators import MultiscalePatchDiscriminator, MultiscalePatchDiscriminatorConfig
from semsynth.models.io import ENCODER_FOLDER, save_pretrained, unwrap
from semsynth.models.spade import (
    ConvEncoder, ConvEncoderConfig, SPADEGenerator, SPADEGeneratorConfig,
    check_generator_config, reparameterize)
from semsynth.train.task import Phase, Task, check_first_item


@dataclass(frozen=True)
class Config:
    family: str = "spade"                  # generator: "spade" (SPADE) | "oasis" (OASIS / USIS, 3D noise)
    ngf: int = 64                          # generator base width (SPADE ngf / OASIS channels_G)
    z_dim: int = 64                        # noise size: OASIS 3D noise 64; SPADE VAE 256
    use_vae: bool = False                  # spade family: z from a VAE style encoder E of the real photo
    num_upsampling_layers: str = "normal"  # spade family: "normal" | "more" (published Cityscapes) | "most"
    norm: str = "batch"                    # SPADE param-free norm: "instance" | "batch" | "syncbatch"
    spade_hidden: int = 128                # hidden channels of SPADE's shared conv
    use_spectral_norm: bool = True         # spectral norm in G's residual blocks (and D's middle convs)
    use_dontcare: bool = False             # ignore pixels get their own input channel (else all-zero one-hot)
    use_instance_edges: bool = False       # one instance-boundary channel; needs instance maps (cityscapes)
    encoder_size: int = 256                # VAE encoder input size (photos resized to it; 4 * 2^k)
    ndf: int = 64                          # D base width
    num_d: int = 2                         # D scales
    n_layers_d: int = 4                    # D conv layers per scale
    lr_g: float = 1e-4                     # G (and E) Adam lr; TTUR as SPADE
    lr_d: float = 4e-4                     # D Adam lr
    beta1: float = 0.0                     # Adam beta1 (SPADE TTUR: 0)
    beta2: float = 0.9                     # Adam beta2 (SPADE code: 0.9; the paper's 0.999 is a typo, SPADE #50)
    lambda_feat: float = 10.0              # D feature matching weight; 0 = off
    lambda_vgg: float = 10.0               # VGG-19 perceptual loss weight (when use_vgg)
    lambda_kld: float = 0.05               # KL weight (when use_vae)
    use_vgg: bool = True                   # VGG-19 loss; needs the local weight file (see losses/perceptual.py)
    vgg_weights: str | None = None         # path of vgg19-dcbb9e9d.pth; None = $SEMSYNTH_VGG19 or torch hub cache
    diffaug: str = ""                      # DiffAugment of every D input, e.g. "color,translation,cutout"; "" = off


def config_of(options) -> Config:
    """This task's Config from any object carrying its fields (e.g. the `sis` command's options); fields it lacks
    keep their defaults, fields this task does not read are left behind."""
    return Config(**{f.name: getattr(options, f.name) for f in dataclasses.fields(Config) if hasattr(options, f.name)})


def data_mode(cfg: Config) -> str:
    return "paired"


def data_options(cfg: Config) -> dict:
    """Reader options this config needs (instance-edge maps, read by the Cityscapes reader)."""
    return {"use_instance_edges": True} if cfg.use_instance_edges else {}


def label_channels(cfg: Config, num_classes: int) -> int:
    """Generator / discriminator label input channels for a class set of `num_classes`."""
    return num_classes + int(cfg.use_dontcare) + int(cfg.use_instance_edges)


def generator_config(cfg: Config, dataset) -> SPADEGeneratorConfig:
    """The generator's config: interface sizes from the data set, the rest from `cfg`."""
    return SPADEGeneratorConfig(
        label_channels=label_channels(cfg, dataset.classes.num_classes), family=cfg.family, ngf=cfg.ngf,
        z_dim=cfg.z_dim, use_vae=cfg.use_vae, num_upsampling_layers=cfg.num_upsampling_layers, norm=cfg.norm,
        use_spectral_norm=cfg.use_spectral_norm, resolution=tuple(dataset.size), spade_hidden=cfg.spade_hidden)


def build_generator(cfg: Config, dataset) -> SPADEGenerator:
    return SPADEGenerator(generator_config(cfg, dataset))


def validate(cfg: Config, dataset) -> None:
    """Raise ValueError for a config that cannot train on `dataset`, before any work."""
    parse_policy(cfg.diffaug, where="sis task")
    if getattr(dataset, "mode", "paired") != "paired":
        raise ValueError(f"sis --mode paired needs a data set loaded with mode='paired', got mode={dataset.mode!r}")
    for name in ("lr_g", "lr_d", "ngf", "ndf", "num_d", "n_layers_d", "z_dim"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"{name} must be positive, got {getattr(cfg, name)}")
    item = check_first_item(dataset)
    if cfg.use_instance_edges and "edges" not in item:
        raise ValueError(f"use_instance_edges needs instance maps (item key 'edges'), but items of this data set "
                         f"have keys {sorted(item)}; set use_instance_edges=False")
    check_generator_config(generator_config(cfg, dataset))


def check_files(cfg: Config) -> None:
    """FileNotFoundError naming the VGG-19 weight file and where to put it, when the VGG loss has none. The engine
    calls this before it builds the data set, so a run without the file stops in its first second."""
    if cfg.use_vgg:
        find_vgg19_weights(cfg.vgg_weights)


def build(cfg: Config, dataset) -> PairedSIS:
    return PairedSIS(cfg, dataset)


def split_outputs(outputs: list[list[torch.Tensor]], n: int):
    """D outputs of concat([fake, real]) along the batch -> (fake outputs, real outputs)."""
    return [[t[:n] for t in scale] for scale in outputs], [[t[n:] for t in scale] for scale in outputs]


class PairedSIS(Task):
    """SPADE training: phases G then D (one step each per iteration)."""

    name = "sis"
    data_mode = "paired"
    ema_source = "G"

    def __init__(self, cfg: Config, dataset):
        super().__init__()
        self.cfg = cfg
        self.classes = dataset.classes
        self.size = tuple(dataset.size)
        self.dataset_name = getattr(dataset, "name", type(dataset).__name__)
        self.num_classes = dataset.classes.num_classes
        self.label_channels = label_channels(cfg, self.num_classes)
        self.nets["G"] = build_generator(cfg, dataset)
        self.nets["D"] = MultiscalePatchDiscriminator(MultiscalePatchDiscriminatorConfig(
            label_channels=self.label_channels, ndf=cfg.ndf, num_d=cfg.num_d, n_layers_d=cfg.n_layers_d,
            use_spectral_norm=cfg.use_spectral_norm))
        if cfg.use_vae:
            self.nets["E"] = ConvEncoder(ConvEncoderConfig(ndf=cfg.ngf, z_dim=cfg.z_dim, input_size=cfg.encoder_size))
        self.diffaug = parse_policy(cfg.diffaug, where="sis task")
        self.vgg = None  # frozen VGGLoss, read from its file at the first G loss; not in self.nets (no optimizer,
                         # no checkpoint), and a dry run never reads the file

    # -- contract ----------------------------------------------------------------------------------
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        g_params = [p for key in self.optimizer_nets()["G"] for p in self.nets[key].parameters()]
        return {"G": torch.optim.Adam(g_params, lr=self.cfg.lr_g, betas=betas),
                "D": torch.optim.Adam(self.nets["D"].parameters(), lr=self.cfg.lr_d, betas=betas)}

    def optimizer_nets(self) -> dict[str, list[str]]:
        return {"G": ["G", "E"] if self.cfg.use_vae else ["G"], "D": ["D"]}

    def phases(self) -> list[Phase]:
        return [Phase("G", "G"), Phase("D", "D")]

    def segmap(self, batch: dict) -> torch.Tensor:
        return make_segmap(batch["label"], self.num_classes, self.classes.ignore_index, self.cfg.use_dontcare,
                           batch.get("edges") if self.cfg.use_instance_edges else None)

    def d_outputs(self, segmap: torch.Tensor, fake: torch.Tensor, real: torch.Tensor):
        """(D outputs of the fakes, of the reals), each conditioned on `segmap`; with DiffAugment, pair i of both
        sides sees the same draw (label and photo moved together, colour on the photo)."""
        if self.diffaug:
            params = draw(len(real), tuple(real.shape[-2:]), self.diffaug)
            fake, segmap = apply(params, fake, segmap)
            real, _ = apply(params, real)
        return split_outputs(self.nets["D"](torch.cat([torch.cat([segmap, fake], 1), torch.cat([segmap, real], 1)], 0)),
                             len(real))

    def _generate(self, batch: dict, segmap: torch.Tensor):
        """fake photo and the KL term (None without VAE) for a training batch."""
        if self.cfg.use_vae:
            mu, logvar = self.nets["E"](batch["image"])
            return self.nets["G"](segmap, reparameterize(mu, logvar)), kl_divergence(mu, logvar)
        return self.nets["G"](segmap), None

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        real = batch["image"]
        if real.shape[-2:] != batch["label"].shape[-2:]:
            raise ValueError(f"photo {tuple(real.shape)} and label {tuple(batch['label'].shape)} sizes differ")
        segmap = self.segmap(batch)
        if phase == "G":
            fake, kld = self._generate(batch, segmap)
            out_fake, out_real = self.d_outputs(segmap, fake, real)
            adv = sum(g_hinge(scale[-1].float()) for scale in out_fake) / len(out_fake)
            terms = {"G/adv": adv}
            if self.cfg.lambda_feat:
                terms["G/feat"] = self.cfg.lambda_feat * feature_matching(out_fake, out_real)
            if self.cfg.use_vgg:
                if self.vgg is None:
                    self.vgg = VGGLoss(self.cfg.vgg_weights)
                self.vgg.to(fake.device)
                terms["G/vgg"] = self.cfg.lambda_vgg * self.vgg(fake.float(), real.float())
            if kld is not None:
                terms["G/kld"] = self.cfg.lambda_kld * kld
            total = sum(terms.values())
            return total, {"G/total": float(total.detach()), **{k: float(v.detach()) for k, v in terms.items()}}
        if phase == "D":
            with torch.no_grad():
                fake, _ = self._generate(batch, segmap)
            out_fake, out_real = self.d_outputs(segmap, fake, real)
            loss = sum(d_hinge(r[-1].float(), f[-1].float()) for r, f in zip(out_real, out_fake)) / len(out_fake)
            return loss, {"D/hinge": float(loss.detach()),
                          "D/real_score": float(sum(s[-1].detach().float().mean() for s in out_real) / len(out_real)),
                          "D/fake_score": float(sum(s[-1].detach().float().mean() for s in out_fake) / len(out_fake))}
        raise ValueError(f"unknown phase {phase!r}; PairedSIS has phases G, D")

    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        idx = torch.randperm(len(dataset), generator=generator)[:n].tolist()
        items = [dataset[i] for i in idx]
        fixed = {"label": torch.stack([it["label"] for it in items])}
        if self.cfg.use_instance_edges:
            fixed["edges"] = torch.stack([it["edges"] for it in items])
        if unwrap(self.nets["G"]).uses_noise:
            fixed["z"] = torch.randn(len(idx), self.cfg.z_dim, generator=generator)
        return fixed

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        """uint8 [N, 3, H, 2W]: each picture is the colourised label map | the generated photo."""
        G = self.nets.get("G_ema", self.nets["G"])
        photo = G(self.segmap(fixed), fixed.get("z"))
        colour = colorize_batch(fixed["label"], self.classes).to(photo.device)
        return torch.cat([colour, to_uint8(photo)], dim=3)

    def export(self, folder) -> None:
        G = unwrap(self.nets.get("G_ema", self.nets["G"]))
        save_pretrained(G, folder, extra={
            "task": "sis", "mode": "paired", "classes": class_set_to_dict(self.classes),
            "size": list(self.size), "dataset": self.dataset_name, "label_channels": self.label_channels,
            "use_dontcare": self.cfg.use_dontcare, "use_instance_edges": self.cfg.use_instance_edges,
            "task_config": dataclasses.asdict(self.cfg)})
        if "E" in self.nets:  # the VAE style encoder, for style-guided synthesis (Pipeline.synthesize(style=...))
            save_pretrained(unwrap(self.nets["E"]), Path(folder) / ENCODER_FOLDER, extra={"task": "sis-encoder"})
