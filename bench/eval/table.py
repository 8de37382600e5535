#!/usr/bin/python3
"""usage: table.py RESULTS.jsonl... -> a Markdown table of bench/eval/quality.sh results (the last
line for each case and selector wins), cases in first-seen order."""
import json, sys

rows, order = {}, []
for path in sys.argv[1:]:
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        key = (r["case"], r["selector"])
        if r["case"] not in order:
            order.append(r["case"])
        rows[key] = r.get("result") or {}

print("| case | N | selector | selected | registered | models | 3D points | ATE/extent | hard defects | stationary |")
print("|---|---|---|---|---|---|---|---|---|---|")
for case in order:
    for sel in ("uniform", "sharpest", "framesift", "framesift-fast"):
        r = rows.get((case, sel))
        if r is None:
            continue
        if "error" in r or not r:
            print(f"| {case} | | {sel} | error: {r.get('error', 'none')} | | | | | | |")
            continue
        ate = r.get("ate_rmse_norm")
        print(f"| {case} | {r.get('N')} | {sel} | {r.get('n_selected')} | {r.get('registered_ratio')} | {r.get('n_models')} | "
              f"{r.get('n_points3d'):,} | {'' if ate is None else f'{ate:.1e}'} | {r.get('n_in_hard_defect', '')} | {r.get('n_stationary', '')} |")
