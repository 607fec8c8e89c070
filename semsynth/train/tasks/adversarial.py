"""The unconditional GAN objective shared by the layout and image tasks (StyleGAN2 or DCGAN nets).

Phases: G (non-saturating logistic), Greg (StyleGAN2's lazy path-length regulariser every `pl_interval` steps),
D (logistic), Dreg (lazy R1 every `r1_interval` steps). Lazy phases scale their loss by the interval, and the
Adam lr and betas of their optimizer are rescaled by mb_ratio = I / (I + 1) (StyleGAN2 Appendix B;
stylegan2-ada training_loop.py L200-208). Style mixing: with probability
`style_mixing_prob` the ws from `mix_cutoff` on come from a second z (cutoff ~ U{1, ..., num_ws - 1}).
Subclasses say what D sees: `real_input(batch)` and `fake_input(raw G output)`. With `diffaug`, every D input
(real, fake, and the reals of R1, whose gradient is taken through the transform) goes through DiffAugment
(semsynth/losses/diffaug.py); `d_input_is_photo` False (layouts) allows only its spatial transforms.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from semsynth.losses.diffaug import LABEL_TRANSFORMS, TRANSFORMS, diff_augment, parse_policy
from semsynth.losses.gan import d_logistic, g_nonsaturating, path_lengths, r1_penalty
from semsynth.models import dcgan, stylegan2
from semsynth.models.io import unwrap
from semsynth.train.task import Phase, Task


@dataclass(frozen=True)
class GANConfig:
    z_dim: int = 512                    # latent size
    w_dim: int = 512                    # StyleGAN2 w size
    mapping_layers: int = 2             # StyleGAN2 mapping depth (2 = stylegan2-ada 'auto', 8 = paper configs)
    channel_base: int = 16384           # StyleGAN2 channels(r) = min(channel_base // r, channel_max)
    channel_max: int = 512              # StyleGAN2 channel cap
    mbstd_group: int = 4                # minibatch-stddev group; the per-rank batch must divide by min(group, batch)
    lr: float = 0.0                     # Adam lr of G and D; 0 = published value (StyleGAN2 0.0025, DCGAN 2e-4)
    r1_gamma: float = 1.0               # R1 weight gamma (StyleGAN2); 0 = no R1 phase. DCGAN ignores it
    r1_interval: int = 16               # lazy R1: run the Dreg phase every this many steps
    style_mixing_prob: float = 0.9      # StyleGAN2 style mixing probability; 0 = off
    pl_weight: float = 2.0              # StyleGAN2 path-length regulariser weight; 0 = no Greg phase. DCGAN ignores it
    pl_interval: int = 4                # lazy path-length regulariser: run the Greg phase every this many steps
    pl_decay: float = 0.01              # running mean of the path lengths: a <- lerp(a, mean length, pl_decay)
    pl_batch_shrink: int = 2            # the Greg phase uses batch // pl_batch_shrink latents
    diffaug: str = ""                   # DiffAugment of every D input, e.g. "color,translation,cutout"; "" = off


class AdversarialTask(Task):
    """G/D training by the non-saturating logistic loss; `nets` = {"G", "D"} (+ "G_ema" from the engine)."""

    ema_source = "G"
    d_input_is_photo = True  # False: D sees label maps, which take only DiffAugment's spatial transforms

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, cfg: GANConfig, arch: str = "stylegan2"):
        """Optimiser and regulariser settings come from `cfg`; R1, style mixing and path lengths are StyleGAN2's
        and are off for DCGAN."""
        super().__init__()
        self.nets = {"G": G, "D": D}
        self.lr, self.betas = adam_defaults(arch, cfg.lr)
        sg2 = arch == "stylegan2"
        self.r1_gamma, self.r1_interval = (cfg.r1_gamma if sg2 else 0.0), cfg.r1_interval
        self.style_mixing_prob = cfg.style_mixing_prob if sg2 else 0.0
        self.pl_weight, self.pl_interval = (cfg.pl_weight if sg2 else 0.0), cfg.pl_interval
        self.pl_decay, self.pl_batch_shrink = cfg.pl_decay, cfg.pl_batch_shrink
        self.pl_mean = torch.zeros([])  # running mean of the path lengths (checkpointed through state_dict)
        self.diffaug = parse_policy(cfg.diffaug, diffaug_transforms(self.d_input_is_photo), f"{self.name} task")

    # -- to implement ------------------------------------------------------------------------------
    def real_input(self, batch: dict) -> torch.Tensor:
        """What D sees for the real batch, float [N, C_D, H, W]."""
        raise NotImplementedError

    def fake_input(self, raw: torch.Tensor) -> torch.Tensor:
        """What D sees for the generator output `raw` (differentiable)."""
        raise NotImplementedError

    def d_logits(self, x: torch.Tensor) -> torch.Tensor:
        """D's logits for its input `x`, seen through DiffAugment when it is on (one fresh draw per call)."""
        if self.d_input_is_photo:
            x = diff_augment(photo=x, policy=self.diffaug)[0]
        else:
            x = diff_augment(label=x, policy=self.diffaug)[1]
        return self.nets["D"](x)

    # -- contract ----------------------------------------------------------------------------------
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        def adam(net: str, interval: int, lazy: bool) -> torch.optim.Optimizer:
            ratio = interval / (interval + 1) if lazy else 1.0
            return torch.optim.Adam(self.nets[net].parameters(), lr=self.lr * ratio,
                                    betas=(self.betas[0] ** ratio, self.betas[1] ** ratio), eps=1e-8)

        return {"G": adam("G", self.pl_interval, self.pl_weight > 0),
                "D": adam("D", self.r1_interval, self.r1_gamma > 0)}

    def optimizer_nets(self) -> dict[str, list[str]]:
        return {"G": ["G"], "D": ["D"]}

    def phases(self) -> list[Phase]:
        phases = [Phase("G", "G")]
        if self.pl_weight > 0:
            phases.append(Phase("Greg", "G", self.pl_interval))
        phases.append(Phase("D", "D"))
        if self.r1_gamma > 0:
            phases.append(Phase("Dreg", "D", self.r1_interval))
        return phases

    def generate(self, n: int, device, return_ws: bool = False):
        """Raw G output for n fresh latents, with style mixing (training-time sampling); with `return_ws`, the
        pair (output, ws) of a StyleGAN2 generator."""
        G = self.nets["G"]
        z = torch.randn(n, unwrap(G).z_dim, device=device)
        extra = {"return_ws": True} if return_ws else {}
        num_ws = getattr(unwrap(G), "num_ws", 0)
        if num_ws > 1 and self.style_mixing_prob > 0 and float(torch.rand([])) < self.style_mixing_prob:
            cutoff = int(torch.randint(1, num_ws, []))
            return G(z, mix_z=torch.randn_like(z), mix_cutoff=cutoff, **extra)
        return G(z, **extra)

    def path_length_loss(self, n: int, device) -> tuple[torch.Tensor, dict[str, float]]:
        """(pl_weight * interval) * mean (|J_w^T y| - a)^2, updating the running mean a (averaged over the ranks
        under torchrun, so every rank keeps the same a). Runs in fp32: it differentiates a gradient."""
        with torch.autocast(device_type=torch.device(device).type, enabled=False):
            images, ws = self.generate(max(1, n // self.pl_batch_shrink), device, return_ws=True)
            lengths = path_lengths(images.float(), ws)
        mean = lengths.detach().mean()
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(mean)
            mean /= torch.distributed.get_world_size()
        self.pl_mean = self.pl_mean.to(mean.device).lerp(mean, self.pl_decay)
        penalty = (lengths - self.pl_mean).square().mean()
        # + 0 x an output pixel: every parameter takes part in the loss (output biases do not move the path
        # lengths), which DDP needs; as stylegan2-ada loss.py
        loss = penalty * self.pl_weight * self.pl_interval + images[:, 0, 0, 0].sum() * 0
        return loss, {"pl_penalty": float(penalty.detach()), "pl_mean": float(self.pl_mean)}

    def state_dict(self) -> dict:
        return {"pl_mean": float(self.pl_mean)}

    def load_state_dict(self, state: dict) -> None:
        self.pl_mean = torch.tensor(float(state.get("pl_mean", 0.0)))  # checkpoints from before the regulariser: 0

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        D = self.d_logits
        real = self.real_input(batch)
        if phase == "G":
            fake_logits = D(self.fake_input(self.generate(real.shape[0], real.device)))
            loss = g_nonsaturating(fake_logits)
            return loss, {"loss_G": float(loss.detach()), "D_fake": float(fake_logits.detach().mean())}
        if phase == "Greg":
            return self.path_length_loss(real.shape[0], real.device)
        if phase == "D":
            with torch.no_grad():
                fake = self.fake_input(self.generate(real.shape[0], real.device))
            real_logits, fake_logits = D(real), D(fake)
            loss = d_logistic(real_logits, fake_logits)
            return loss, {"loss_D": float(loss.detach()), "D_real": float(real_logits.detach().mean()),
                          "D_fake": float(fake_logits.detach().mean())}
        if phase == "Dreg":
            real = real.detach().float().requires_grad_(True)
            with torch.autocast(device_type=real.device.type, enabled=False):  # R1 needs fp32 gradients
                logits = D(real)
                r1 = r1_penalty(logits, real)
            loss = r1 * (self.r1_gamma / 2) * self.r1_interval + logits.sum() * 0  # every parameter in the loss (DDP)
            return loss, {"r1": float(r1.detach())}
        raise ValueError(f"unknown phase {phase!r}; choose from {[p.name for p in self.phases()]}")

    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        return {"z": torch.randn(n, unwrap(self.nets["G"]).z_dim, generator=generator)}

    def sampling_net(self) -> torch.nn.Module:
        return self.nets.get("G_ema", self.nets["G"])


def diffaug_transforms(photo: bool) -> tuple[str, ...]:
    """The DiffAugment transforms a D input may take: all for photos, the spatial ones for label maps."""
    return TRANSFORMS if photo else LABEL_TRANSFORMS


def check_regularisers(cfg: GANConfig, task: str) -> None:
    """Raise on R1 / path-length settings that cannot run."""
    for name in ("r1_interval", "pl_interval", "pl_batch_shrink"):
        if getattr(cfg, name) < 1:
            raise ValueError(f"{task} task: {name} must be >= 1, got {getattr(cfg, name)}")
    if cfg.pl_weight < 0 or cfg.r1_gamma < 0:
        raise ValueError(f"{task} task: pl_weight and r1_gamma must be >= 0, got {cfg.pl_weight}, {cfg.r1_gamma}")
    if not 0 < cfg.pl_decay <= 1:
        raise ValueError(f"{task} task: pl_decay must lie in (0, 1], got {cfg.pl_decay}")


def adam_defaults(arch: str, lr: float) -> tuple[float, tuple[float, float]]:
    """(lr, betas): StyleGAN2 0.0025 with (0, 0.99); DCGAN 2e-4 with (0.5, 0.999). lr > 0 overrides."""
    if arch == "stylegan2":
        return lr or 0.0025, (0.0, 0.99)
    if arch == "dcgan":
        return lr or 2e-4, (0.5, 0.999)
    raise ValueError(f"unknown arch {arch!r}; choose from ['stylegan2', 'dcgan']")


def dataset_name(dataset) -> str:
    return getattr(dataset, "name", None) or dataset.classes.name


def build_nets(cfg, size, channels: int, arch: str = "stylegan2", use_tanh: bool = False):
    """(G, D) for `arch` at `size` with `channels` generator outputs / discriminator inputs."""
    if arch == "dcgan":
        G = dcgan.Generator(dcgan.GeneratorConfig(z_dim=cfg.z_dim, resolution=tuple(size), out_channels=channels,
                                                  ngf=cfg.ngf, use_tanh=use_tanh))
        D = dcgan.Discriminator(dcgan.DiscriminatorConfig(resolution=tuple(size), in_channels=channels, ndf=cfg.ndf))
        return G, D
    G = stylegan2.Generator(stylegan2.GeneratorConfig(
        z_dim=cfg.z_dim, w_dim=cfg.w_dim, mapping_layers=cfg.mapping_layers, resolution=tuple(size),
        out_channels=channels, channel_base=cfg.channel_base, channel_max=cfg.channel_max))
    D = stylegan2.Discriminator(stylegan2.DiscriminatorConfig(
        resolution=tuple(size), in_channels=channels, channel_base=cfg.channel_base, channel_max=cfg.channel_max,
        mbstd_group=cfg.mbstd_group))
    return G, D
