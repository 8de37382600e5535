#!/usr/bin/python3
"""usage: placeholder_gt.py VIDEO_OR_IMAGE_DIR OUT.gt.json

A ground-truth stand-in for real clips without poses (../shared/eval/external/README): one entry per
frame (counted with ffprobe, or the images of a folder), distinct centres on a line, no defect labels.
ATE and rotation error are meaningless with it; registration, models and 3D points are what count."""
import json, os, subprocess, sys

src, out = sys.argv[1], sys.argv[2]
if os.path.isdir(src):
    n = len([f for f in os.listdir(src) if f.lower().endswith((".jpg", ".jpeg", ".png"))])
    fps = 1.0
else:
    q = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries",
                        "stream=nb_read_frames,avg_frame_rate", "-of", "json", src], capture_output=True, text=True, check=True)
    st = json.loads(q.stdout)["streams"][0]
    n = int(st["nb_read_frames"])
    a, b = st["avg_frame_rate"].split("/")
    fps = float(a) / float(b)
labels = dict(motion_blur_px=0.0, defocus_sigma=0.0, blur_px=0.0, exposure_gain=1.0, noise_sigma=0.0,
              stationary=False, lowtex=False, segments=[], defect=False)
frames = [dict(frame=i, center=[float(i), 0.0, 0.0], R_w2c=[[1, 0, 0], [0, 1, 0], [0, 0, 1]], t_w2c=[-float(i), 0.0, 0.0],
               time_s=i / fps, labels=labels) for i in range(n)]
json.dump(dict(fps=fps, n_frames=n, segments=[], frames=frames, placeholder=True), open(out, "w"))
print("%s: %d frames" % (out, n))
