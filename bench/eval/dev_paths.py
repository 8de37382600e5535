#!/usr/bin/python3
"""usage: /usr/bin/python3 bench/eval/dev_paths.py render|degrade ARGS...

Camera paths as real footage moves (issue 11), added to ../shared/eval's renderer without changing
it: the shared render.py and degrade.py run unmodified, with its Trajectory taught these paths.
  arc     slow orbit arc: about 60 degrees around the object group, radius 5.6 m, drone-smooth
  dolly   dolly-in towards the object group (7.5 m -> 3.5 m), looking at it
  pan     a pan with parallax: 2.4 m sideways while panning 50 degrees
  sweep   handheld sweep at walking pace (1.2 m/s) along the room, looking sideways
Environment: FRAMESIFT_EVAL (default ../shared/eval beside the repository), JITTER (scale of the
renderer's handheld jitter, default 1; 0.3 for a drone).
  render:  dev_paths.py render --path arc --out DIR --frames 480 --width 640 --height 360 --fps 24 --seed 5
  degrade: dev_paths.py degrade DIR OUT_PREFIX --seed 55
"""
import math, os, sys
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
EVAL = os.environ.get("FRAMESIFT_EVAL", os.path.join(HERE, "..", "..", "..", "shared", "eval"))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(EVAL, "render"))
sys.path.insert(0, os.path.join(EVAL, "degrade"))
import render  # noqa: E402

NEW_PATHS = ("arc", "dolly", "pan", "sweep")
JITTER = float(os.environ.get("JITTER", "1"))
_base = render.Trajectory._base
_init = render.Trajectory.__init__


def _init_scaled(self, path, n_frames, seed=1, fps=30.0, lowtex="auto", lowtex_len_s=1.6):
    # The plain-wall glance is placed where the camera is nearest +x; keep it for every path.
    _init(self, path, n_frames, seed, fps, lowtex, lowtex_len_s)
    self.jit_a = self.jit_a * JITTER


def _base_new(self, f):
    if self.path not in NEW_PATHS:
        return _base(self, f)
    t = f / max(self.n - 1, 1)
    if self.path == "arc":
        ang = self.phase + math.radians(60) * t
        c = np.array([5.6 * math.cos(ang), 1.7 + 0.1 * math.sin(math.pi * t), 5.6 * math.sin(ang)])
        tgt = np.array([0.0, 0.9, 0.0])
    elif self.path == "dolly":
        d = np.array([math.cos(self.phase), 0.0, math.sin(self.phase)])
        r = 7.5 - 4.0 * t
        c = d * r + np.array([0.0, 1.5 + 0.2 * t, 0.0])
        tgt = np.array([0.0, 0.9, 0.0])
    elif self.path == "pan":
        d = np.array([math.cos(self.phase), 0.0, math.sin(self.phase)])
        side = np.array([-d[2], 0.0, d[0]])
        c = d * 5.0 + side * (2.4 * t - 1.2) + np.array([0.0, 1.6, 0.0])
        look = math.radians(-25 + 50 * t)  # pan across the group and beyond it
        fwd = -d * math.cos(look) + side * math.sin(look)
        tgt = c + 4.0 * fwd + np.array([0.0, -0.5, 0.0])
    else:  # sweep: along a line past the group at 1.2 m/s, looking at the side, walking bob
        length = min(11.0, 1.2 * self.n / self.fps)  # stays inside the 18 m room
        d = np.array([math.cos(self.phase), 0.0, math.sin(self.phase)])
        side = np.array([-d[2], 0.0, d[0]])
        c = side * 4.2 + d * (length * t - length / 2)
        c[1] = 1.6 + 0.025 * math.sin(2 * math.pi * 1.8 * f / self.fps)
        tgt = c - side * 4.0 + d * 0.8 + np.array([0.0, -0.6, 0.0])
    return c, render.look_rotation(c, tgt)


render.Trajectory.__init__ = _init_scaled
render.Trajectory._base = _base_new


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "render":
        import argparse
        ap_orig = argparse.ArgumentParser.add_argument

        def add_argument(self, *a, **k):  # accept the new path names
            if a and a[0] == "--path":
                k["choices"] = ["orbit", "walk", *NEW_PATHS]
            return ap_orig(self, *a, **k)
        argparse.ArgumentParser.add_argument = add_argument
        sys.argv = ["render.py", *args]
        render.main()
    elif cmd == "degrade":
        import degrade
        sys.argv = ["degrade.py", *args]
        degrade.main()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
