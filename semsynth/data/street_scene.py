"""Sampling a synthetic street scene: a pure function of a numpy Generator, independent of the output size.

A scene is a straight street seen from a car: road to a vanishing point, sidewalks, a row of blocks along each
side (buildings with windows, trees, walls, fences), a skyline at the street's end, and objects standing on the
ground (cars, people, poles with signs or lights, trees...). Everything is in metres; `street_draw` projects it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from semsynth.data.street_canvas import BUILDING, FENCE, VEGETATION, WALL, Camera

CAR_COLORS = np.array([(235, 235, 235), (25, 25, 28), (120, 122, 128), (180, 182, 186), (150, 20, 25),
                       (25, 45, 110), (30, 70, 45), (200, 170, 60), (90, 60, 40), (70, 110, 160)], np.float32)
FACADE_COLORS = np.array([(170, 160, 145), (140, 120, 100), (200, 190, 170), (120, 110, 105), (165, 95, 70),
                          (215, 210, 200), (110, 115, 125), (185, 150, 110)], np.float32)
CLOTH_COLORS = np.array([(30, 30, 35), (60, 60, 90), (150, 30, 30), (200, 200, 195), (40, 80, 50), (110, 90, 70),
                         (180, 140, 40), (70, 40, 90), (25, 40, 70), (150, 150, 155)], np.float32)
SKIN_COLORS = np.array([(230, 190, 160), (200, 150, 110), (140, 95, 65), (90, 60, 45)], np.float32)


@dataclass(frozen=True)
class Block:
    """A stretch of one side of the street, standing on the facade line between depths z0 and z1."""
    z0: float
    z1: float
    cls: int                 # BUILDING or VEGETATION (the tall part)
    height: float            # metres
    front: int = -1          # WALL or FENCE in front of the tall part, -1 = none
    front_height: float = 0  # metres
    color: tuple = (0, 0, 0)  # facade RGB
    window_dz: float = 4.0   # window pitch along the street, metres
    window_dy: float = 3.2   # floor height, metres
    window_tone: float = 0.5  # multiplicative light of window glass (< 1 dark, > 1 reflecting the sky)
    bump: float = 0.0        # phase of the irregular top edge of vegetation


@dataclass(frozen=True)
class Thing:
    """An object standing on the ground at (X, Z), drawn by `street_things.THINGS[kind]`."""
    kind: str
    X: float
    Z: float
    size: tuple              # (width, height) metres
    colors: tuple = ()       # RGB triples the drawer uses (body, glass, ...)
    variant: int = 0         # drawer-specific choice (sign shape, walking pose...)


@dataclass(frozen=True)
class Light:
    """Per-scene lighting and colour cast of the photo."""
    brightness: float = 1.0          # global gain
    tint: tuple = (1.0, 1.0, 1.0)    # RGB gains (colour cast)
    sun_left: float = 1.0            # light on the left facades (< 1: in shade)
    sun_right: float = 1.0           # light on the right facades
    sky_top: tuple = (70, 120, 200)  # RGB at the top of the picture
    sky_horizon: tuple = (190, 210, 235)  # RGB at the horizon, also the haze colour
    fog: float = 150.0               # metres at which 63% of a colour is haze
    class_jitter: np.ndarray = field(default_factory=lambda: np.ones((19, 3), np.float32))  # RGB gains per class
    noise_offset: tuple = (0, 0, 0, 0)  # texture tile offsets: grain (y, x), blotches (y, x)


@dataclass
class Scene:
    camera: Camera
    road: tuple              # (left edge X, right edge X) metres
    sidewalk: tuple          # (left width, right width) metres
    verge: tuple             # (left width, right width) of terrain between sidewalk and facades, metres
    end: float               # depth where the street ends and the skyline stands, metres
    lanes: tuple             # X of dashed lane markings
    blocks: tuple            # (left blocks, right blocks)
    skyline: tuple           # ((x0, x1, height, cls), ...) in screen x, metres, at depth `end`
    things: list = field(default_factory=list)
    light: Light = field(default_factory=Light)

    @property
    def facade_x(self) -> tuple[float, float]:
        left = self.road[0] - self.sidewalk[0] - self.verge[0]
        right = self.road[1] + self.sidewalk[1] + self.verge[1]
        return left, right


class _Draws:
    """The scene's Generator with a cheaper `uniform`: numpy's Generator.uniform(low, high) is
    low + (high - low) * random() on the same stream, so this gives the same numbers bit for bit at a third of
    the per-call cost (sampling a scene makes a few hundred such calls)."""

    def __init__(self, rng: np.random.Generator):
        self.random, self.integers, self.normal, self.poisson = rng.random, rng.integers, rng.normal, rng.poisson

    def uniform(self, low: float, high: float, size=None):
        return low + (high - low) * self.random(size)


def _pick(rng: np.random.Generator, options: tuple, p: tuple):
    """rng.choice for a handful of options, without its per-call overhead."""
    u, acc = rng.random(), 0.0
    for option, weight in zip(options, p):
        acc += weight
        if u < acc:
            return option
    return options[-1]


def _blocks(rng: np.random.Generator, style: str, end: float) -> tuple[Block, ...]:
    blocks, z = [], 0.0
    while z < end:
        length = float(rng.uniform(10, 45))
        kind = _pick(rng, ("building", "green", "wall", "fence"),
                     (0.72, 0.18, 0.06, 0.04) if style == "city" else (0.25, 0.45, 0.15, 0.15))
        color = tuple(FACADE_COLORS[rng.integers(len(FACADE_COLORS))] * rng.uniform(0.8, 1.15, 3))
        common = dict(color=color, window_dz=float(rng.uniform(2.5, 5.0)), window_dy=float(rng.uniform(2.8, 3.6)),
                      window_tone=float(rng.uniform(0.3, 0.75) if rng.random() < 0.75 else rng.uniform(1.15, 1.4)),
                      bump=float(rng.uniform(0, 100)))
        if kind == "building":
            block = Block(z, z + length, BUILDING, float(rng.uniform(6, 28)), **common)
        elif kind == "green":
            block = Block(z, z + length * 0.6, VEGETATION, float(rng.uniform(3, 9)), **common)
        else:
            front = WALL if kind == "wall" else FENCE
            tall = BUILDING if rng.random() < 0.4 else VEGETATION
            block = Block(z, z + length, tall, float(rng.uniform(4, 20)) if tall == BUILDING else
                          float(rng.uniform(3, 8)), front=front, front_height=float(rng.uniform(1.0, 2.4)), **common)
        blocks.append(block)
        z = block.z1
    return tuple(blocks)


def _skyline(rng: np.random.Generator) -> tuple:
    out, x = [], -0.2
    while x < 2.2:
        width = float(rng.uniform(0.02, 0.12))
        cls = int(BUILDING if rng.random() < 0.75 else VEGETATION)
        out.append((x, x + width, float(rng.uniform(6, 45) if cls == BUILDING else rng.uniform(5, 12)), cls))
        x += width
    return tuple(out)


def _light(rng: np.random.Generator) -> Light:
    sunny = rng.random() < 0.6
    return Light(
        brightness=float(rng.uniform(0.75, 1.15)),
        tint=tuple(rng.uniform(0.92, 1.08, 3).tolist()),
        sun_left=float(rng.uniform(0.55, 1.0) if sunny else rng.uniform(0.85, 0.95)),
        sun_right=float(rng.uniform(0.55, 1.0) if sunny else rng.uniform(0.85, 0.95)),
        sky_top=tuple(np.array([70, 120, 200] if sunny else [150, 155, 165]) * rng.uniform(0.8, 1.15, 3)),
        sky_horizon=tuple(np.array([190, 210, 235] if sunny else [205, 205, 210]) * rng.uniform(0.9, 1.05, 3)),
        fog=float(rng.uniform(60, 250)),
        class_jitter=rng.uniform(0.9, 1.1, (19, 3)).astype(np.float32),
        noise_offset=tuple(int(v) for v in rng.integers(0, 1 << 16, 4)),
    )


def sample_scene(rng: np.random.Generator) -> Scene:
    """Draw a whole scene description from `rng` (nothing here depends on the output size)."""
    rng = _Draws(rng)
    camera = Camera(horizon=float(rng.uniform(0.36, 0.54)), vanish_x=float(rng.uniform(0.65, 1.35)),
                    focal=float(rng.uniform(0.85, 1.15)), height=float(rng.uniform(1.3, 1.9)))
    lanes_n = int(rng.integers(1, 5))
    lane_w = float(rng.uniform(2.8, 3.6))
    left = -float(rng.uniform(0.3, lanes_n - 0.3)) * lane_w - 0.5
    road = (left, left + lanes_n * lane_w + 1.0)
    sidewalk = (float(rng.uniform(1.5, 5.0)), float(rng.uniform(1.5, 5.0)))
    verge = tuple(float(rng.uniform(0.5, 3.0)) if rng.random() < 0.25 else 0.0 for _ in range(2))
    end = float(rng.uniform(70, 260))
    styles = ["city" if rng.random() < 0.8 else "park" for _ in range(2)]
    scene = Scene(camera=camera, road=road, sidewalk=sidewalk, verge=verge, end=end,
                  lanes=tuple(road[0] + 0.5 + lane_w * k for k in range(1, lanes_n)),
                  blocks=(_blocks(rng, styles[0], end), _blocks(rng, styles[1], end)),
                  skyline=_skyline(rng), light=_light(rng))
    scene.things = _things(rng, scene, lane_w, styles)
    return scene


def _car(rng, kind: str, X: float, Z: float) -> Thing:
    body = CAR_COLORS[rng.integers(len(CAR_COLORS))] * rng.uniform(0.9, 1.1)
    glass = np.array([35, 45, 55]) * rng.uniform(0.7, 1.5)
    if kind == "car":
        size = (float(rng.uniform(1.65, 1.95)), float(rng.uniform(1.4, 1.75)))
    elif kind == "truck":
        size = (float(rng.uniform(2.3, 2.6)), float(rng.uniform(2.6, 3.8)))
        body = np.array([200, 200, 195]) * rng.uniform(0.6, 1.1, 3)
    elif kind == "bus":
        size = (float(rng.uniform(2.5, 2.6)), float(rng.uniform(3.0, 3.4)))
        body = np.array([(220, 200, 40), (200, 40, 30), (40, 110, 170), (230, 230, 230)][rng.integers(4)], float)
    else:  # train: a tram in the middle of the road
        size = (2.65, 3.6)
        body = np.array([(230, 230, 225), (200, 30, 30), (240, 200, 40)][rng.integers(3)], float)
    return Thing(kind, X, Z, size, (tuple(body), tuple(glass)), variant=int(rng.integers(2)))


def _person(rng, kind: str, X: float, Z: float) -> Thing:
    cloth = CLOTH_COLORS[rng.integers(len(CLOTH_COLORS), size=2)]
    skin = SKIN_COLORS[rng.integers(len(SKIN_COLORS))]
    frame = CAR_COLORS[rng.integers(len(CAR_COLORS))]
    if kind == "person":
        size = (float(rng.uniform(0.45, 0.6)), float(rng.uniform(1.5, 1.9)))
    else:  # "bicycle" / "motorcycle" with a rider, or parked ("bicycle-parked")
        size = (float(rng.uniform(1.6, 1.9)) if kind != "motorcycle" else float(rng.uniform(1.9, 2.2)),
                float(rng.uniform(1.0, 1.15)))
    return Thing(kind, X, Z, size, (tuple(cloth[0]), tuple(cloth[1]), tuple(skin), tuple(frame)),
                 variant=int(rng.integers(4)))


def _things(rng: np.random.Generator, scene: Scene, lane_w: float, styles: list[str]) -> list[Thing]:
    things: list[Thing] = []
    road_l, road_r = scene.road
    far = min(scene.end * 0.9, 130.0)  # beyond ~130 m things are a few pixels even at 512 x 1024
    # parked cars along both curbs, in runs with gaps
    for side, x in ((0, road_l + 1.1), (1, road_r - 1.1)):
        if rng.random() < 0.8:
            z = float(rng.uniform(3.5, 10))
            while z < far:
                if rng.random() < 0.75:
                    kind = "car" if rng.random() < 0.96 else "truck"
                    things.append(_car(rng, kind, x + float(rng.normal(0, 0.1)), z))
                z += float(rng.uniform(5.0, 14.0))
    # traffic in the lanes (the camera's lane starts further ahead)
    lane_centres = [road_l + 0.5 + lane_w * (k + 0.5) for k in range(len(scene.lanes) + 1)]
    for x in lane_centres:
        for _ in range(int(rng.integers(0, 5))):
            kind = _pick(rng, ("car", "truck", "bus", "train"), (0.8, 0.08, 0.09, 0.03))
            z = float(rng.uniform(7.0 if abs(x) < lane_w / 2 else 4.5, far * 0.7))
            things.append(_car(rng, str(kind), x + float(rng.normal(0, 0.25)), z))
    # riders near the right curb, parked bicycles on sidewalks
    for _ in range(int(rng.poisson(0.8))):
        kind = "bicycle" if rng.random() < 0.65 else "motorcycle"
        x = road_r - float(rng.uniform(1.0, 2.5)) if rng.random() < 0.7 else road_l + float(rng.uniform(1.0, 2.5))
        things.append(_person(rng, kind, x, float(rng.uniform(5, 60))))
    # pedestrians on the sidewalks, a few crossing
    for _ in range(int(rng.integers(1, 18))):
        side = int(rng.integers(2))
        if side == 0:
            x = road_l - float(rng.uniform(0.3, scene.sidewalk[0] - 0.2))
        else:
            x = road_r + float(rng.uniform(0.3, scene.sidewalk[1] - 0.2))
        if rng.random() < 0.08:
            x = float(rng.uniform(road_l, road_r))
        kind = "person" if rng.random() < 0.85 else "bicycle-parked"
        things.append(_person(rng, kind, x, float(rng.uniform(3.0, far * 0.5))))
    # poles at the curbs carrying signs, traffic lights or lamps
    for side, x in ((0, road_l - 0.45), (1, road_r + 0.45)):
        z = float(rng.uniform(4, 25))
        spacing = float(rng.uniform(12, 35))
        while z < far:
            kind = _pick(rng, ("sign", "light", "lamp"), (0.5, 0.2, 0.3))
            things.append(Thing(f"pole-{kind}", x, z, (float(rng.uniform(0.12, 0.22)), float(rng.uniform(3.2, 8.5))),
                                colors=(tuple(rng.uniform(90, 170, 3)),), variant=int(rng.integers(3)) + 3 * side))
            z += spacing * float(rng.uniform(0.7, 1.3))
    # street trees on the outer part of the sidewalk (more along parks)
    for side in (0, 1):
        if rng.random() < (0.45 if styles[side] == "city" else 0.9):
            x = road_l - scene.sidewalk[0] * 0.75 if side == 0 else road_r + scene.sidewalk[1] * 0.75
            z = float(rng.uniform(3, 14))
            spacing = float(rng.uniform(7, 16))
            while z < far:
                crown = float(rng.uniform(2.0, 5.0))
                things.append(Thing("tree", x, z, (crown, float(rng.uniform(4.5, 9.0))),
                                    colors=(tuple(np.array([70, 100, 40]) * rng.uniform(0.7, 1.3, 3)),
                                            tuple(np.array([80, 60, 45]) * rng.uniform(0.8, 1.2, 3))),
                                    variant=int(rng.integers(1000))))
                z += spacing * float(rng.uniform(0.8, 1.25))
    things.sort(key=lambda t: -t.Z)  # painter's order: far first
    return things


# one colour per kind of thing for `with_fixed_appearance` (vehicles: body, glass; cyclists and pedestrians: shirt,
# trousers, skin, frame; poles: metal; trees: leaves, bark)
FIXED_COLORS = {
    "car": ((120, 122, 128), (35, 45, 55)), "truck": ((200, 200, 195), (35, 45, 55)),
    "bus": ((220, 200, 40), (35, 45, 55)), "train": ((230, 230, 225), (35, 45, 55)),
    "person": ((60, 60, 90), (30, 30, 35), (200, 150, 110), (25, 45, 110)),
    "pole": ((130, 130, 130),), "tree": ((70, 100, 40), (80, 60, 45)),
}


def with_fixed_appearance(scene: Scene) -> Scene:
    """The same layout with the appearance every scene shares: default light (no tint, fog or colour jitter), one
    facade colour and window tone, one colour per kind of thing. Only the texture grain still varies, so a photo is
    a function of its label map up to that grain."""
    def thing(t: Thing) -> Thing:
        kind = t.kind.split("-")[0]
        return replace(t, colors=FIXED_COLORS["person" if kind in ("bicycle", "motorcycle") else kind])

    def block(b: Block) -> Block:
        return replace(b, color=tuple(FACADE_COLORS[0]), window_tone=0.5)

    return replace(scene, blocks=tuple(tuple(block(b) for b in side) for side in scene.blocks),
                   things=[thing(t) for t in scene.things], light=Light(noise_offset=scene.light.noise_offset))
