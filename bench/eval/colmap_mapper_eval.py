#!/usr/bin/python3
"""colmap_mapper_eval.py DB IMAGES GT OUTWORK [--threads 2]: colmap mapper only, on a given database; prints one JSON
line in sfm_eval.py's terms (registered_ratio, n_models, n_points3d, ..., ate_rmse_norm, rot_err_median_deg, time_map_s).
Frame index of an image = the last integer in its name (framesift's frame_NNNNNN.jpg); with --first-number the first
(sfm_eval.py's work folders name them fNNNNNN_K.jpg: the mapper on COLMAP's own database). --eval-only: score the models
already in OUTWORK/sparse (no mapper run)."""
import json, os, re, subprocess, sys, time
import numpy as np
sys.path.insert(0, os.environ.get("FRAMESIFT_EVAL", os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../shared/eval")))
from sfm_eval import read_model_txt, umeyama, frame_of
db, images_dir, gt_path, work = sys.argv[1:5]
threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "2"
gframes = json.load(open(gt_path))["frames"]
files = sorted(f for f in os.listdir(images_dir) if f.lower().endswith((".jpg", ".png", ".jpeg")))
os.makedirs(work, exist_ok=True)
sparse = os.path.join(work, "sparse"); os.makedirs(sparse, exist_ok=True)
log = open(os.path.join(work, "colmap.log"), "w")
t0 = time.time()
rc = 0 if "--eval-only" in sys.argv else subprocess.run(["colmap", "mapper", "--database_path", db, "--image_path", images_dir, "--output_path", sparse,
                     "--Mapper.num_threads", threads], stdout=log, stderr=subprocess.STDOUT).returncode
t1 = time.time()
res = dict(n_input=len(files), n_registered=0, registered_ratio=0.0, n_models=0, n_points3d=0, mean_track_length=None,
           mean_reproj_error_px=None, ate_rmse_norm=None, rot_err_median_deg=None, time_map_s=round(t1 - t0, 1), mapper_rc=rc)
models = sorted(d for d in os.listdir(sparse) if os.path.isdir(os.path.join(sparse, d)))
best = None
for d in models:
    txt = os.path.join(work, "txt_" + d); os.makedirs(txt, exist_ok=True)
    if subprocess.run(["colmap", "model_converter", "--input_path", os.path.join(sparse, d), "--output_path", txt,
                       "--output_type", "TXT"], stdout=log, stderr=subprocess.STDOUT).returncode != 0:
        continue
    m = read_model_txt(txt)
    if best is None or len(m[0]) > len(best[0]):
        best = m
res["n_models"] = len(models)
if best is not None and len(best[0]) > 0:
    images, n_pts, tl, err_w = best
    res.update(n_registered=len(images), registered_ratio=round(len(images) / max(len(files), 1), 4), n_points3d=n_pts,
               mean_track_length=round(float(np.mean(tl)), 3) if tl else None,
               mean_reproj_error_px=round(float(np.sum(err_w) / max(np.sum(tl), 1)), 4) if tl else None)
    names = sorted(images)
    first = "--first-number" in sys.argv
    idx = {n: (int(re.findall(r"\d+", n)[0]) if first else frame_of(n, {})) for n in names}
    est_c = np.array([-images[n][0].T @ images[n][1] for n in names])
    gt_c = np.array([gframes[idx[n]]["center"] for n in names])
    all_c = np.array([f["center"] for f in gframes])
    extent = float(np.linalg.norm(all_c.max(0) - all_c.min(0)))
    if len(names) >= 3:
        s, R, t = umeyama(est_c, gt_c)
        err = (s * (R @ est_c.T).T + t) - gt_c
        res["ate_rmse_norm"] = round(float(np.sqrt((err ** 2).sum(1).mean())) / extent, 7)
    Rg = [np.array(gframes[idx[n]]["R_w2c"]).T for n in names]
    Re = [images[n][0].T for n in names]
    M = sum(g @ e.T for g, e in zip(Rg, Re))
    U, _, Vt = np.linalg.svd(M)
    Q = U @ np.diag([1, 1, np.linalg.det(U @ Vt)]) @ Vt
    ang = [np.degrees(np.arccos(np.clip((np.trace(g.T @ Q @ e) - 1) / 2, -1, 1))) for g, e in zip(Rg, Re)]
    res["rot_err_median_deg"] = round(float(np.median(ang)), 5)
print(json.dumps(res))
