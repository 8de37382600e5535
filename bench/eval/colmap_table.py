#!/usr/bin/python3
"""colmap_table.py CASE...: the quality/time table rows (Markdown) from colmap-case.sh outputs in $WORK."""
import json, os, sys
def load(p):
    try: return json.load(open(p))
    except Exception: return None
def f(v, fmt="%.3g"):
    return "-" if v is None else (fmt % v)
print("| case | N | selector time (s) | framesift --colmap + mapper: registered / models / points / ATE / rot° / reproj px / time (s) | framesift + COLMAP exhaustive: registered / models / points / ATE / rot° / time (s) | points ratio | time ratio | framesift + COLMAP sequential: registered / points / time (s) | load |")
print("|---|---|---|---|---|---|---|---|---|")
for case in sys.argv[1:]:
    d = os.path.join(os.environ.get("WORK", "/tmp/colmap-eval"), case)
    fs, et, ours, exh, seq = (load(os.path.join(d, n)) for n in ("fs.json", "extract_time.json", "ours.json", "ref_exh.json", "ref_seq.json"))
    if not (fs and et and ours): continue
    n = ours["n_input"]; ext = et["extract_s"]; col = fs["colmap"]["seconds"]
    t_ours = ext + ours["time_map_s"]
    row = [case, str(n), "%.1f (db %.1f)" % (ext, col),
           "%d / %d / %d / %s / %s / %s / %.1f" % (ours["n_registered"], ours["n_models"], ours["n_points3d"], f(ours["ate_rmse_norm"]), f(ours["rot_err_median_deg"]), f(ours["mean_reproj_error_px"]), t_ours)]
    if exh and "time_map_s" in exh:
        t_exh = ext - col + exh["time_extract_s"] + exh["time_match_s"] + exh["time_map_s"]
        row += ["%d / %d / %d / %s / %s / %.1f (extract %.0f, match %.0f, map %.0f)" % (exh["n_registered"], exh["n_models"], exh["n_points3d"], f(exh["ate_rmse_norm"]), f(exh["rot_err_median_deg"]), t_exh, exh["time_extract_s"], exh["time_match_s"], exh["time_map_s"]),
                "%.2f" % (ours["n_points3d"] / max(exh["n_points3d"], 1)), "%.2f" % (t_ours / t_exh)]
    else: row += ["-", "-", "-"]
    if seq and "time_map_s" in seq:
        t_seq = ext - col + seq["time_extract_s"] + seq["time_match_s"] + seq["time_map_s"]
        row += ["%d / %d / %.1f" % (seq["n_registered"], seq["n_points3d"], t_seq)]
    else: row += ["-"]
    load_txt = open(os.path.join(d, "load.txt")).read().split() if os.path.exists(os.path.join(d, "load.txt")) else []
    row += [" ".join(load_txt[1::4])]
    print("| " + " | ".join(row) + " |")
