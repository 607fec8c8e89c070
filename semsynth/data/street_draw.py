"""Rasterising a sampled street scene: skyline, ground and facades column by column, then objects far to near.

All loops run over scene elements (blocks, objects), never over pixels; per-pixel work is numpy broadcasting
over the rows x columns a thing covers.
"""
from __future__ import annotations

import math

import numpy as np

from semsynth.data.street_canvas import (BICYCLE, BUILDING, BUS, CAR, FENCE, LIGHT, MOTORCYCLE, PERSON, POLE, RIDER,
                                         ROAD, SIDEWALK, SIGN, TERRAIN, TRAIN, TRUCK, VEGETATION, Canvas)
from semsynth.data.street_scene import Block, Scene, Thing


def _frac(x: np.ndarray) -> np.ndarray:
    """x % 1.0 bit for bit, without numpy's float remainder (50x slower on float32 arrays)."""
    return x - np.floor(x)


def _row(cv: Canvas, y: float) -> int:
    """First pixel row whose centre is at or below relative height y."""
    return min(cv.h, max(0, math.ceil(y * cv.h - 0.5)))


def _col(cv: Canvas, x: float) -> int:
    """First pixel column whose centre is at or right of relative x."""
    return min(cv.w, max(0, math.ceil(x * cv.w / 2.0 - 0.5)))


def draw_scene(scene: Scene, cv: Canvas) -> None:
    _skyline(scene, cv)
    _ground(scene, cv)
    left, right = scene.facade_x
    c_vp = _col(cv, scene.camera.vanish_x)
    _facades(scene, cv, scene.blocks[0], left, slice(0, c_vp), scene.light.sun_left)
    _facades(scene, cv, scene.blocks[1], right, slice(c_vp, cv.w), scene.light.sun_right)
    for thing in scene.things:
        THINGS[thing.kind.split("-")[0]](thing, scene, cv)


def _skyline(scene: Scene, cv: Canvas) -> None:
    cam, end = scene.camera, scene.end
    r1 = _row(cv, cam.y(0.0, end))
    for x0, x1, height, cls in scene.skyline:
        c0, c1 = _col(cv, x0), _col(cv, x1)
        r0 = _row(cv, cam.y(height, end))
        if c0 < c1 and r0 < r1:
            cv.label[r0:r1, c0:c1] = cls
            cv.paint[r0:r1, c0:c1] = cv.class_paint(cls)
            cv.depth[r0:r1, c0:c1] = end
            cv.shade[r0:r1, c0:c1] = 0.9 + 0.2 * ((x0 * 7.31) % 1.0)


def _ground(scene: Scene, cv: Canvas) -> None:
    cam = scene.camera
    r0 = _row(cv, cam.y(0.0, scene.end))
    if r0 >= cv.h:
        return
    Z = (cam.focal * cam.height / (cv.ys[r0:] - cam.horizon)).astype(np.float32)       # [h] metres
    X = (cv.xs[None, :] - cam.vanish_x) * (Z / cam.focal)[:, None]                       # [h, W] metres
    (rl, rr), (sl, sr) = scene.road, scene.sidewalk
    classes = np.array([TERRAIN, SIDEWALK, ROAD, SIDEWALK, TERRAIN], np.uint8)
    strip = (X > np.float32(rl - sl)).astype(np.intp)  # strip = searchsorted(edges, X), 5x faster on 2-d X
    for edge in (rl, rr, rr + sr):
        strip += X > np.float32(edge)
    label = cv.label[r0:]
    classes.take(strip, out=label, mode="clip")
    cv.class_paint(classes.astype(np.intp)).take(strip, out=cv.paint[r0:], mode="clip")
    cv.depth[r0:] = Z[:, None]
    # paving joints every 1.5 m, lane dashes every 9 m, solid edge lines 0.25 m inside the curbs
    joint = (Z % 1.5) < 0.12
    cv.shade[r0:] = np.where((label == SIDEWALK) & joint[:, None], np.float32(0.8), np.float32(1.0))
    dash = ((Z % 9.0) < 3.5)[:, None]
    marks = (np.abs(X - (rl + 0.25)) < 0.08) | (np.abs(X - (rr - 0.25)) < 0.08)
    for lane in scene.lanes:
        marks |= (np.abs(X - lane) < 0.07) & dash
    cv.glow[r0:] = np.where(marks & (label == ROAD), np.float32(0.55), np.float32(0.0))


def _block_colors(blocks: tuple[Block, ...], cv: Canvas) -> np.ndarray:
    out = []
    for b in blocks:
        rgb = np.asarray(b.color) if b.cls == BUILDING else np.array([70, 100, 45]) * (np.asarray(b.color) / 160)
        out.append(cv.color(rgb))
    return np.array(out, np.intp)


def _facades(scene: Scene, cv: Canvas, blocks: tuple[Block, ...], facade_x: float, cols: slice,
             sun: float) -> None:
    cam = scene.camera
    dx = cv.xs[cols] - cam.vanish_x
    with np.errstate(divide="ignore", invalid="ignore"):
        Zf = cam.focal * facade_x / dx                                                    # [w] metres
    valid = np.flatnonzero((Zf > 0) & (Zf < scene.end))  # a run of columns on the outer side
    if len(valid) == 0:
        return
    cols = slice(cols.start + valid[0], cols.start + valid[-1] + 1)
    Zf = Zf[valid[0]:valid[-1] + 1].astype(np.float32)
    index = np.minimum(np.searchsorted(np.array([b.z1 for b in blocks]), Zf, side="right"), len(blocks) - 1)

    def per_block(attr, dtype=np.float32):
        return np.array([getattr(b, attr) for b in blocks], dtype)[index]

    cls = per_block("cls", np.uint8)
    height, bump = per_block("height"), per_block("bump")
    wavy = 0.8 * np.sin(Zf * 0.9 + bump) + 0.4 * np.sin(Zf * 2.3 + 2 * bump)  # uneven tops of hedges and trees
    height = np.where(cls == VEGETATION, height + wavy, height)
    top, bottom = cam.y(height, Zf), cam.y(np.float32(0.0), Zf)
    front = per_block("front", np.int16)
    front_top = np.where(front >= 0, cam.y(per_block("front_height"), Zf), bottom)
    rows = slice(_row(cv, float(top.min())), _row(cv, float(bottom.max())))
    ys = cv.ys[rows, None]
    where = (rows, cols)
    inside = (ys >= top) & (ys < bottom)                                                # [h, w]
    in_front = inside & (ys >= front_top)                                               # walls, fences
    np.copyto(cv.label[where], cls, where=inside)
    np.copyto(cv.label[where], front.astype(np.uint8), where=in_front)
    np.copyto(cv.depth[where], Zf, where=inside)
    np.copyto(cv.paint[where], _block_colors(blocks, cv)[index], where=inside)
    np.copyto(cv.paint[where], cv.class_paint(front.astype(np.intp)), where=in_front)
    # windows: a grid in facade coordinates (along-street Zf, height Y), so they follow the perspective
    Y = cam.height - (ys - cam.horizon) * (Zf / cam.focal)                              # [h, w] metres
    col_in = _frac((Zf - bump) / per_block("window_dz"))
    row_in = _frac(Y / per_block("window_dy"))
    window = ((col_in > 0.25) & (col_in < 0.75)) & (row_in > 0.3) & (row_in < 0.78) & (Y > 2.8) & (Y < height - 1.2)
    shop = (Y > 0.4) & (Y < 2.5) & (_frac(Zf / 5.0) < 0.75)
    glass = (window | shop) & (cls == BUILDING) & ~in_front
    light = np.where(glass, per_block("window_tone") * np.float32(sun), np.float32(sun))
    light *= np.float32(0.8) + np.float32(0.2 / 15) * np.clip(Y, 0, 15)  # darker towards the street
    bars = in_front & ((front == FENCE) & (_frac(Zf * 2.5) < 0.4))  # fence posts 0.4 m apart
    np.multiply(light, np.float32(0.6), out=light, where=bars)
    np.copyto(cv.shade[where], light, where=inside)


# ------------------------------------------------------------------------------------------------ objects
def _project(scene: Scene, thing: Thing, width: float | None = None, height: float | None = None,
             lift: float = 0.0, shift: float = 0.0):
    """Relative box (x0, x1, y0, y1) of a width x height rectangle standing `lift` metres above the ground at the
    thing's position, moved `shift` metres sideways."""
    cam = scene.camera
    w = thing.size[0] if width is None else width
    h = thing.size[1] if height is None else height
    xc = cam.x(thing.X + shift, thing.Z)
    half = cam.focal * w / thing.Z / 2
    return xc - half, xc + half, cam.y(lift + h, thing.Z), cam.y(lift, thing.Z)


def _tiny(where) -> bool:
    """Under 8 pixels tall: parts would not show, so draw one silhouette (saves time on distant things)."""
    return where[0].stop - where[0].start < 8


def _shadow(scene: Scene, thing: Thing, cv: Canvas, width: float) -> None:
    x0, x1, _, y1 = _project(scene, thing, width * 1.15, 0.0)
    cam = scene.camera
    y0 = y1 - cam.focal * 0.25 / thing.Z
    box = cv.box(x0, x1, y0, y1 + cam.focal * 0.1 / thing.Z)
    if box is None:
        return
    where, bx, by = box
    ground = (cv.label[where] == ROAD) | (cv.label[where] == SIDEWALK)
    shade = cv.shade[where]
    np.multiply(shade, 0.55, out=shade, where=ground & ((bx - 0.5) ** 2 * 4 < 1.0))


def _vehicle(thing: Thing, scene: Scene, cv: Canvas) -> None:
    cls = {"car": CAR, "truck": TRUCK, "bus": BUS, "train": TRAIN}[thing.kind]
    box = cv.box(*_project(scene, thing))
    if box is None:
        return
    where, bx, by = box
    body = cv.color(thing.colors[0])
    edge = np.abs(bx - 0.5)
    gradient = 1.15 - 0.35 * by
    Z = thing.Z
    if _tiny(where):
        cv.draw(where, (by > 0.04) & (edge < 0.5 - 0.12 * (by < 0.42) * (cls == CAR)), cls, Z, body, gradient)
        return
    _shadow(scene, thing, cv, thing.size[0])
    glass, dark, red = cv.color(thing.colors[1]), cv.color((22, 22, 24)), cv.color((190, 25, 20))
    if cls == CAR:
        cabin_half = 0.36 - 0.1 * (0.42 - by) / 0.4
        lower = (by > 0.4) & (by < 0.9) & (edge < 0.5 - 0.04 * (by < 0.47))
        cabin = (by > 0.04) & (by <= 0.42) & (edge < cabin_half)
        wheels = (by >= 0.78) & ((np.abs(bx - 0.17) < 0.11) | (np.abs(bx - 0.83) < 0.11))
        cv.draw(where, wheels, cls, Z, dark)
        cv.draw(where, lower | cabin, cls, Z, body, gradient)
        cv.draw(where, cabin & (by > 0.1) & (by < 0.38) & (edge < cabin_half - 0.06), cls, Z, glass, 1.2 - by)
        cv.draw(where, (by > 0.5) & (by < 0.6) & (edge > 0.36) & (edge < 0.47), cls, Z, red)
    else:
        shell = (by > 0.02) & (by < 0.93) & (edge < 0.5 - 0.03 * (by < 0.05))
        wheels = (by >= 0.85) & ((np.abs(bx - 0.2) < 0.1) | (np.abs(bx - 0.8) < 0.1))
        cv.draw(where, wheels, cls, Z, dark)
        cv.draw(where, shell, cls, Z, body, gradient)
        if cls == TRUCK:
            cv.draw(where, shell & (_frac(by * 9) < 0.12), cls, Z, body, 0.8)
        else:
            band = (0.08, 0.45) if cls == BUS else (0.1, 0.5)
            cv.draw(where, (by > band[0]) & (by < band[1]) & (edge < 0.42), cls, Z, glass, 1.15 - by)
        cv.draw(where, (by > 0.78) & (by < 0.84) & (edge > 0.36) & (edge < 0.46), cls, Z, red)


def _person(thing: Thing, scene: Scene, cv: Canvas) -> None:
    box = cv.box(*_project(scene, thing))
    if box is None:
        return
    where, bx, by = box
    shirt, trousers, skin = (cv.color(c) for c in thing.colors[:3])
    spread = (0.08, 0.14, 0.2, 0.11)[thing.variant]
    Z = thing.Z
    if _tiny(where):
        cv.draw(where, (by > 0.5) & (np.abs(bx - 0.5) < 0.3), PERSON, Z, trousers)
        cv.draw(where, (by <= 0.5) & (np.abs(bx - 0.5) < 0.4), PERSON, Z, shirt)
        return
    head = ((bx - 0.5) / 0.2) ** 2 + ((by - 0.065) / 0.065) ** 2 < 1
    torso = (by > 0.12) & (by < 0.56) & (np.abs(bx - 0.5) < 0.46 - 0.12 * (by < 0.16))
    apart = 0.12 + spread * (by - 0.5) * 2  # each leg's centre from the middle: wider towards the feet
    legs = (by >= 0.5) & (np.abs(np.abs(bx - 0.5) - apart) < 0.1)
    cv.draw(where, legs, PERSON, Z, trousers, 1.05 - 0.3 * by)
    cv.draw(where, torso, PERSON, Z, shirt, 1.1 - 0.3 * by)
    cv.draw(where, head, PERSON, Z, skin)


def _cycle(thing: Thing, scene: Scene, cv: Canvas) -> None:
    """Bicycles and motorcycles: ridden ones from behind (rider on top), parked bicycles from the side."""
    kind = thing.kind
    Z = thing.Z
    cls = MOTORCYCLE if kind == "motorcycle" else BICYCLE
    shirt, trousers, skin, frame = (cv.color(c) for c in thing.colors)
    dark = cv.color((25, 25, 28))
    if kind == "bicycle-parked":  # side view: two wheels and a frame
        box = cv.box(*_project(scene, thing))
        if box is None:
            return
        where, bx, by = box
        w, h = thing.size
        rw = 0.34
        rings = np.zeros(np.broadcast_shapes(bx.shape, by.shape), bool)
        for cx in (rw, w - rw):
            r = np.sqrt((bx * w - cx) ** 2 + ((1 - by) * h - rw) ** 2)
            rings |= np.abs(r - rw + 0.03) < 0.045
        bar = (np.abs((1 - by) * h - 0.62) < 0.04) & (bx > 0.3) & (bx < 0.72)
        tube = np.abs((bx - 0.3) * w * 1.4 - ((1 - by) * h - 0.34)) < 0.05
        tube &= ((1 - by) * h > 0.3) & ((1 - by) * h < 0.66)
        cv.draw(where, rings, BICYCLE, Z, dark)
        cv.draw(where, bar | tube, BICYCLE, Z, frame)
        return
    rider_h = 1.72
    width = 0.75 if cls == MOTORCYCLE else 0.6
    box = cv.box(*_project(scene, thing, width=width, height=rider_h))
    if box is None:
        return
    where, bx, by = box
    edge = np.abs(bx - 0.5)
    wheel = (by > 0.62) & (edge < (0.12 if cls == MOTORCYCLE else 0.05))
    machine = wheel.copy()
    if cls == MOTORCYCLE:
        machine |= (by > 0.45) & (by < 0.8) & (edge < 0.32)
    handlebar = (np.abs(by - 0.4) < 0.02) & (edge < 0.45)
    torso = (by > 0.1) & (by < 0.45) & (edge < 0.36 - 0.1 * (by < 0.14))
    head = (edge / 0.17) ** 2 + ((by - 0.06) / 0.06) ** 2 < 1
    legs = (by >= 0.42) & (by < 0.78) & (np.abs(edge - 0.16) < 0.09)
    cv.draw(where, machine, cls, Z, dark if cls == BICYCLE else frame, 1.1 - 0.3 * by)
    cv.draw(where, handlebar, cls, Z, dark)
    cv.draw(where, legs, RIDER, Z, trousers, 1.0 - 0.2 * by)
    cv.draw(where, torso, RIDER, Z, shirt, 1.1 - 0.3 * by)
    cv.draw(where, head, RIDER, Z, skin if thing.variant < 2 else dark)


def _pole(thing: Thing, scene: Scene, cv: Canvas) -> None:
    Z = thing.Z
    width, height = thing.size
    kind, side = thing.kind.split("-")[1], thing.variant // 3
    x0, x1, y0, y1 = _project(scene, thing)
    grow = max(0.0, 1.0 / cv.w - (x1 - x0) / 2)  # keep a visible pole at least one pixel wide
    box = cv.box(x0 - grow, x1 + grow, y0, y1)
    if box is None:
        return
    where, bx, by = box
    metal = cv.color(thing.colors[0])
    cv.draw(where, None, POLE, Z, metal, 1.1 - 0.2 * bx)
    toward_road = 1.0 if side == 0 else -1.0
    if kind == "sign":
        shape = thing.variant % 3
        size = 0.8
        box = cv.box(*_project(scene, thing, width=size, height=size, lift=height - size - 0.2))
        if box is None:
            return
        where, bx, by = box
        if shape == 0:
            plate, rgb = (bx - 0.5) ** 2 + (by - 0.5) ** 2 < 0.25, (200, 30, 30)
        elif shape == 1:
            plate, rgb = np.ones_like(bx * by, bool), (30, 80, 170)
        else:
            plate, rgb = (by > 0.1) & (np.abs(bx - 0.5) < 0.5 * by), (230, 230, 220)
        cv.draw(where, plate, SIGN, Z - 0.05, cv.color(rgb))
        cv.draw(where, plate & ((bx - 0.5) ** 2 + (by - 0.6) ** 2 < 0.06), SIGN, Z - 0.05,
                cv.color((235, 235, 235) if shape != 2 else (200, 30, 30)))
    elif kind == "light":
        box = cv.box(*_project(scene, thing, width=0.38, height=1.0, lift=height - 1.05))
        if box is None:
            return
        where, bx, by = box
        cv.draw(where, None, LIGHT, Z - 0.05, cv.color((35, 35, 32)))
        on = (0.17, 0.5, 0.83)[thing.variant % 3]
        np.copyto(cv.glow[where], np.float32(0.7), where=(bx - 0.5) ** 2 + (by - on) ** 2 * 9 < 0.06)
    else:  # lamp: an arm over the road with a head at its end
        arm = 1.6
        box = cv.box(*_project(scene, thing, width=arm, height=0.12, lift=height - 0.15,
                               shift=toward_road * arm / 2))
        if box is not None:
            where, bx, by = box
            cv.draw(where, None, POLE, Z - 0.05, metal)
        box = cv.box(*_project(scene, thing, width=0.5, height=0.18, lift=height - 0.3,
                               shift=toward_road * (arm - 0.25)))
        if box is not None:
            where, bx, by = box
            cv.draw(where, None, POLE, Z - 0.05, metal, 1.3)


def _tree(thing: Thing, scene: Scene, cv: Canvas) -> None:
    Z = thing.Z
    crown_w, height = thing.size
    leaves, bark = cv.color(thing.colors[0]), cv.color(thing.colors[1])
    box = cv.box(*_project(scene, thing, width=0.3, height=height * 0.5))
    if box is not None:
        where, bx, by = box
        cv.draw(where, None, VEGETATION, Z, bark, 1.1 - 0.3 * bx)
    crown_h = height * 0.6
    box = cv.box(*_project(scene, thing, width=crown_w, height=crown_h, lift=height - crown_h))
    if box is None:
        return
    where, bx, by = box
    u, v = bx - 0.5, by - 0.5
    if _tiny(where):
        crown = u * u + v * v < 0.25
    else:  # a leafy outline
        angle = np.arctan2(v, u)
        phase = thing.variant * 0.37
        radius = 0.5 * (1 + 0.1 * np.sin(7 * angle + phase) + 0.07 * np.sin(13 * angle + 3 * phase))
        crown = u * u + v * v < radius * radius
    cv.draw(where, crown, VEGETATION, Z, leaves, 1.2 - 0.5 * by - 0.2 * u)


THINGS = {"car": _vehicle, "truck": _vehicle, "bus": _vehicle, "train": _vehicle, "person": _person,
          "bicycle": _cycle, "motorcycle": _cycle, "pole": _pole, "tree": _tree}
