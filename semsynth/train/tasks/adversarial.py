"""The unconditional GAN objective shared by the layout and image tasks (StyleGAN2 or DCGAN nets).

Phases: G (non-saturating logistic), D (logistic), Dreg (lazy R1 every `r1_interval` steps, scaled by the
interval). Adam's lr and betas of D are rescaled by mb_ratio = I / (I + 1) for the lazy regulariser
(StyleGAN2 Appendix B; stylegan2-ada training_loop.py L200-208). Style mixing: with probability
`style_mixing_prob` the ws from `mix_cutoff` on come from a second z (cutoff ~ U{1, ..., num_ws - 1}).
Subclasses say what D sees: `real_input(batch)` and `fake_input(raw G output)`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from semsynth.losses.gan import d_logistic, g_nonsaturating, r1_penalty
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


class AdversarialTask(Task):
    """G/D training by the non-saturating logistic loss; `nets` = {"G", "D"} (+ "G_ema" from the engine)."""

    ema_source = "G"

    def __init__(self, G: torch.nn.Module, D: torch.nn.Module, lr: float, betas: tuple[float, float],
                 r1_gamma: float = 0.0, r1_interval: int = 16, style_mixing_prob: float = 0.0):
        super().__init__()
        self.nets = {"G": G, "D": D}
        self.lr, self.betas = lr, betas
        self.r1_gamma, self.r1_interval, self.style_mixing_prob = r1_gamma, r1_interval, style_mixing_prob

    # -- to implement ------------------------------------------------------------------------------
    def real_input(self, batch: dict) -> torch.Tensor:
        """What D sees for the real batch, float [N, C_D, H, W]."""
        raise NotImplementedError

    def fake_input(self, raw: torch.Tensor) -> torch.Tensor:
        """What D sees for the generator output `raw` (differentiable)."""
        raise NotImplementedError

    # -- contract ----------------------------------------------------------------------------------
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        ratio = self.r1_interval / (self.r1_interval + 1) if self.r1_gamma > 0 else 1.0
        d_betas = (self.betas[0] ** ratio, self.betas[1] ** ratio)
        return {"G": torch.optim.Adam(self.nets["G"].parameters(), lr=self.lr, betas=self.betas, eps=1e-8),
                "D": torch.optim.Adam(self.nets["D"].parameters(), lr=self.lr * ratio, betas=d_betas, eps=1e-8)}

    def optimizer_nets(self) -> dict[str, list[str]]:
        return {"G": ["G"], "D": ["D"]}

    def phases(self) -> list[Phase]:
        phases = [Phase("G", "G"), Phase("D", "D")]
        if self.r1_gamma > 0:
            phases.append(Phase("Dreg", "D", self.r1_interval))
        return phases

    def generate(self, n: int, device) -> torch.Tensor:
        """Raw G output for n fresh latents, with style mixing (training-time sampling)."""
        G = self.nets["G"]
        z = torch.randn(n, unwrap(G).z_dim, device=device)
        num_ws = getattr(unwrap(G), "num_ws", 0)
        if num_ws > 1 and self.style_mixing_prob > 0 and float(torch.rand([])) < self.style_mixing_prob:
            cutoff = int(torch.randint(1, num_ws, []))
            return G(z, mix_z=torch.randn_like(z), mix_cutoff=cutoff)
        return G(z)

    def loss(self, phase: str, batch: dict) -> tuple[torch.Tensor, dict[str, float]]:
        D = self.nets["D"]
        real = self.real_input(batch)
        if phase == "G":
            fake_logits = D(self.fake_input(self.generate(real.shape[0], real.device)))
            loss = g_nonsaturating(fake_logits)
            return loss, {"loss_G": float(loss.detach()), "D_fake": float(fake_logits.detach().mean())}
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
                r1 = r1_penalty(D(real), real)
            loss = r1 * (self.r1_gamma / 2) * self.r1_interval
            return loss, {"r1": float(r1.detach())}
        raise ValueError(f"unknown phase {phase!r}; choose from {[p.name for p in self.phases()]}")

    def fixed_inputs(self, dataset, n: int, generator: torch.Generator) -> dict:
        return {"z": torch.randn(n, unwrap(self.nets["G"]).z_dim, generator=generator)}

    def sampling_net(self) -> torch.nn.Module:
        return self.nets.get("G_ema", self.nets["G"])


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
