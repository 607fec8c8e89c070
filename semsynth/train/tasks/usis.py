"""Unpaired semantic image synthesis (USIS, Eskandar et al. 2023): G turns a layout into a photo; a U-Net
segmenter S, trained only on generated photos, must recover the layout (self-supervised L_seg); a whole-image
discriminator Dw (wavelet domain, never sees labels) judges realism against unpaired real photos.

Objective (UP Eq. 2-5, U:models/models.py):
    L_G  = lambda_seg * L_seg(m, S(G(m))) + w_adv * softplus(-Dw(G(m)))
    L_S  = L_seg(m, S(G(m)))                          G frozen: the fake is made under no_grad
    L_Dw = softplus(-Dw(x)) + softplus(Dw(G(m)))
    Dreg = r1_gamma * R1(Dw, x) * r1_interval         every r1_interval steps (lazy R1, StyleGAN2)
L_seg is the class-balanced CE with real-class targets label + 1 (channel 0 = fake class, never a target).
w_adv is cfg.lambda_wavelet with the wavelet Dw (use_wavelet_d) and cfg.lambda_adv with the plain whole-image D
(the "Whole" ablation, UP Table 1). Paper vs code: R1 "every 16 minibatches" (UP §5.1) vs reg_every = 4 (code);
we follow the code (r1_interval = 4) and keep it a named option. Step order as the code: G, S, Dw, Dreg.

With `diffaug`, every photo Dw sees (real, fake, and the reals of R1, whose gradient is taken through the
transform) goes through DiffAugment; S, a segmenter rather than a discriminator, sees the photos as made.

Users reach this task through `semsynth train sis --mode unpaired` (sis.py: its options are the union of this Config
and spade.Config, its presets per --mode), which hands this module its share of the options as a `Config`.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from semsynth.classes import class_set_to_dict
from semsynth.data.labels import colorize_batch, make_segmap, to_uint8
from semsynth.losses.diffaug import diff_augment, parse_policy
from semsynth.losses.gan import d_logistic, g_nonsaturating, r1_penalty
from semsynth.losses.segmentation import segmentation_loss
from semsynth.models.io import save_pretrained, unwrap
from semsynth.models.spade import SPADEGenerator, SPADEGeneratorConfig
from semsynth.models.unet import UNet, UNetConfig, auto_depth
from semsynth.models.wavelet_discriminator import WaveletDiscriminator, WaveletDiscriminatorConfig
from semsynth.train.task import Phase, Task, check_first_item, no_data_options, no_files

@dataclass(frozen=True)
class Config:
    ngf: int = 64                          # generator base width (OASIS channels_G)
    z_dim: int = 64                        # OASIS 3D noise size
    num_upsampling_layers: str = "normal"  # "normal" | "more" | "most" (OASIS: 5 upsamplings = "normal")
    norm: str = "batch"                    # SPADE param-free norm: "instance" | "batch" | "syncbatch"
    spade_hidden: int = 128                # hidden channels of SPADE's shared conv
    use_spectral_norm: bool = True         # spectral norm in G's residual blocks
    use_dontcare: bool = False             # ignore pixels get their own input channel (else all-zero one-hot)
    seg_channels: int = 64                 # U-Net segmenter base channels
    lr_g: float = 1e-4                     # G Adam lr
    lr_s: float = 4e-4                     # segmenter Adam lr
    lr_d: float = 4e-4                     # wavelet D Adam lr
    beta1: float = 0.0                     # Adam beta1
    beta2: float = 0.9                     # Adam beta2 (the paper preset: 0.999, as the USIS code)
    lambda_seg: float = 1.0                # segmentation (cycle) loss weight
    lambda_adv: float = 1.0                # adversarial loss weight of the plain whole-image D (use_wavelet_d False)
    wavelet_channels: int = 64             # wavelet discriminator base channels
    use_wavelet_d: bool = True             # whole-image wavelet discriminator (False = the "Whole" ablation)
    lambda_wavelet: float = 1.0            # adversarial loss weight of the wavelet D (use_wavelet_d True)
    r1_gamma: float = 10.0                 # R1 weight on Dw's real logits (U: code: 10); 0 = off
    r1_interval: int = 4                   # lazy R1 every N steps (U: code 4; UP §5.1 says 16)
    seg_depth: int = 0                     # U-Net depth of S; 0 = auto (up to 6 as OASIS, bottleneck side >= 2)
    use_class_balance: bool = True         # class-balanced L_seg (UP Eq. 4); False = plain mean CE
    # xavier-normal gain of S (U: code 0.02); 0 = PyTorch default. With spectral norm and a high lr, 0.02's tiny
    # raw weights learn far slower (tiny learning test: mIoU 0.114 -> 0.019 after 100 steps at lr 4e-3)
    seg_init_gain: float = 0.0             # xavier-normal gain of the segmenter; 0 = PyTorch default init
    diffaug: str = ""                      # DiffAugment of every D input, e.g. "color,translation,cutout"; "" = off


def config_of(options) -> Config:
    """This task's Config from any object carrying its fields (e.g. the `sis` command's options); fields it lacks
    keep their defaults, fields this task does not read are left behind. Instance edges need instance maps paired
    with the layouts, which an unpaired task never has: asking for them is an error."""
    if getattr(options, "use_instance_edges", False):
        raise ValueError("use_instance_edges needs instance maps paired with the layouts; USIS (mode unpaired) "
                         "does not support it: set use_instance_edges=False")
    return Config(**{f.name: getattr(options, f.name) for f in dataclasses.fields(Config) if hasattr(options, f.name)})


def data_mode(cfg: Config) -> str:
    return "unpaired"


check_files = no_files  # no local file beyond the data set
data_options = no_data_options


def validate(cfg: Config, dataset) -> None:
    """Raise ValueError for a config that cannot train on `dataset`, before any work."""
    parse_policy(cfg.diffaug, where="sis task")
    if getattr(dataset, "mode", "unpaired") != "unpaired":
        raise ValueError(f"sis --mode unpaired needs a data set loaded with mode='unpaired', got "
                         f"mode={dataset.mode!r}")
    for name in ("lr_g", "lr_s", "lr_d", "ngf", "z_dim", "seg_channels", "wavelet_channels"):
        if getattr(cfg, name) <= 0:
            raise ValueError(f"{name} must be positive, got {getattr(cfg, name)}")
    check_first_item(dataset)
    check_unpaired(cfg, dataset)


def build(cfg: Config, dataset) -> UnpairedSIS:
    return UnpairedSIS(cfg, dataset)


def label_channels(cfg: Config, num_classes: int) -> int:
    return num_classes + int(cfg.use_dontcare)


def build_generator(cfg: Config, num_classes: int, size: tuple[int, int]) -> torch.nn.Module:
    """The OASIS-family SPADE generator (3D noise) of semsynth.models.spade, sized from the data set: USIS always
    uses the OASIS family (UP §6.2)."""
    return SPADEGenerator(SPADEGeneratorConfig(
        label_channels=label_channels(cfg, num_classes), family="oasis", ngf=cfg.ngf, z_dim=cfg.z_dim,
        use_vae=False, num_upsampling_layers=cfg.num_upsampling_layers, norm=cfg.norm,
        use_spectral_norm=cfg.use_spectral_norm, resolution=tuple(size), spade_hidden=cfg.spade_hidden))


class UnpairedSIS(Task):
    name = "sis"
    data_mode = "unpaired"
    ema_source = "G"

    def __init__(self, cfg, dataset, generator: torch.nn.Module | None = None):
        """cfg: a Config, or any object carrying its fields (see `config_of`). `generator`: a prebuilt G with the
        SPADEGenerator interface (tests); None = build_generator(...)."""
        super().__init__()
        self.cfg = cfg = config_of(cfg)
        self.classes = dataset.classes
        self.size = tuple(dataset.size)
        self.dataset_name = getattr(dataset, "name", type(dataset).__name__)
        C = self.classes.num_classes
        self.use_dontcare = cfg.use_dontcare
        depth = cfg.seg_depth or auto_depth(self.size)
        self.nets["G"] = generator if generator is not None else build_generator(cfg, C, self.size)
        self.nets["S"] = UNet(UNetConfig(in_channels=3, out_channels=C + 1, base_channels=cfg.seg_channels,
                                         max_channels=4 * cfg.seg_channels, depth=depth,
                                         init_gain=cfg.seg_init_gain))
        self.nets["Dw"] = WaveletDiscriminator(WaveletDiscriminatorConfig(
            resolution=self.size, max_channels=cfg.wavelet_channels, channel_base=64 * cfg.wavelet_channels,
            use_wavelet=cfg.use_wavelet_d))
        self.w_adv = cfg.lambda_wavelet if cfg.use_wavelet_d else cfg.lambda_adv
        self.r1_interval = int(cfg.r1_interval)
        self.diffaug = parse_policy(cfg.diffaug, where="sis task")
        if self.r1_interval < 1:
            raise ValueError(f"r1_interval must be >= 1, got {self.r1_interval}")

    # ------------------------------------------------------------------------------------- optimisation
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        betas = (self.cfg.beta1, self.cfg.beta2)
        return {
            "G": torch.optim.Adam(self.nets["G"].parameters(), lr=self.cfg.lr_g, betas=betas),
            "S": torch.optim.Adam(self.nets["S"].parameters(), lr=self.cfg.lr_s, betas=betas),
            "Dw": torch.optim.Adam(self.nets["Dw"].parameters(), lr=self.cfg.lr_d, betas=betas),
        }

    def optimizer_nets(self) -> dict[str, list[str]]:
        return {"G": ["G"], "S": ["S"], "Dw": ["Dw"]}

    def phases(self) -> list[Phase]:
        phases = [Phase("G", "G"), Phase("S", "S"), Phase("Dw", "Dw")]
        if self.cfg.r1_gamma > 0:
            phases.append(Phase("Dreg", "Dw", self.r1_interval))
        return phases

    # ------------------------------------------------------------------------------------- losses
    def segmap(self, label: torch.Tensor) -> torch.Tensor:
        """ids [N, H, W] -> one-hot [N, C (+1 don't-care), H, W]; ignore pixels are all-zero or don't-care."""
        return make_segmap(label, self.classes.num_classes, self.classes.ignore_index, self.use_dontcare)

    def generate(self, label: torch.Tensor, z: torch.Tensor | None = None, net: str = "G") -> torch.Tensor:
        N, H, W = label.shape
        if z is None:
            z = torch.randn(N, self.cfg.z_dim, device=label.device)
        fake = self.nets[net](self.segmap(label), z)
        assert fake.shape == (N, 3, H, W), fake.shape
        return fake

    def dw_logits(self, photo: torch.Tensor) -> torch.Tensor:
        """Dw's logits for `photo`, seen through DiffAugment when it is on (one fresh draw per call)."""
        return self.nets["Dw"](diff_augment(photo, policy=self.diffaug)[0])

    def seg_loss(self, fake: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
        logits = self.nets["S"](fake)  # [N, C+1, H, W]
        return segmentation_loss(logits, label, self.classes.ignore_index, self.cfg.use_class_balance)

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        label = batch["label"]
        if phase == "G":
            fake = self.generate(label)
            seg = self.seg_loss(fake, label)
            adv = g_nonsaturating(self.dw_logits(fake).float())
            loss = self.cfg.lambda_seg * seg + self.w_adv * adv
            return loss, {"G/seg": seg.item(), "G/adv": adv.item()}
        if phase == "S":
            with torch.no_grad():
                fake = self.generate(label)
            seg = self.seg_loss(fake, label)
            return seg, {"S/seg": seg.item()}
        real = batch["image"]
        if phase == "Dw":
            with torch.no_grad():
                fake = self.generate(label)
            loss = d_logistic(self.dw_logits(real).float(), self.dw_logits(fake).float())
            return loss, {"Dw/logistic": loss.item()}
        if phase == "Dreg":
            with torch.autocast(real.device.type, enabled=False):  # R1 in fp32
                real = real.detach().float().requires_grad_(True)
                logits = self.dw_logits(real)
                r1 = r1_penalty(logits, real)
            # + 0 * logits: the last bias gets no R1 gradient; this keeps every Dw param in DDP's graph
            loss = self.cfg.r1_gamma * r1 * self.r1_interval + 0 * logits.sum()
            return loss, {"Dw/r1": r1.item()}
        raise ValueError(f"unknown phase {phase!r}; UnpairedSIS has {[p.name for p in self.phases()]}")

    # ------------------------------------------------------------------------------------- pictures
    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        idx = torch.randperm(len(dataset), generator=generator)[:n].tolist()
        label = torch.stack([dataset[i]["label"] for i in idx])
        z = torch.randn(len(idx), self.cfg.z_dim, generator=generator)
        return {"label": label, "z": z}

    @torch.no_grad()
    def sample(self, fixed: dict) -> torch.Tensor:
        """uint8 [n, 3, H, 2W]: each picture is the colourised layout | the photo made from it (as PairedSIS)."""
        key = "G_ema" if "G_ema" in self.nets else "G"
        net = self.nets[key]
        was_training = net.training
        net.eval()
        try:
            photos = self.generate(fixed["label"], fixed["z"], net=key)
        finally:
            net.train(was_training)
        return torch.cat([colorize_batch(fixed["label"], self.classes), to_uint8(photos).cpu()], dim=3)

    def export(self, folder) -> None:
        net = unwrap(self.nets["G_ema"] if "G_ema" in self.nets else self.nets["G"])
        save_pretrained(net, folder, extra={
            "task": "sis", "mode": "unpaired", "classes": class_set_to_dict(self.classes),
            "size": list(self.size), "dataset": self.dataset_name,
            "label_channels": label_channels(self.cfg, self.classes.num_classes), "use_dontcare": self.use_dontcare,
            "use_instance_edges": False, "z_dim": self.cfg.z_dim, "task_config": dataclasses.asdict(self.cfg)})


def check_unpaired(cfg, dataset) -> None:
    """Raise ValueError for a data set this task cannot train on (called by `validate`)."""
    if getattr(dataset, "mode", "unpaired") != "unpaired":
        raise ValueError(f"USIS reads an unpaired data set (mode='unpaired'), got mode {dataset.mode!r}")
    H, W = dataset.size
    if H % 32 or W % 32:
        raise ValueError(f"size {H}x{W}: the OASIS generator upsamples 5 times, so H and W must be multiples of 32")
    auto_depth((H, W))
    if not math.isfinite(cfg.lambda_seg) or cfg.lambda_seg < 0:
        raise ValueError(f"lambda_seg must be a finite value >= 0, got {cfg.lambda_seg}")
