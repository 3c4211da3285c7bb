#!/usr/bin/env python3
"""zsbir against PyTorch on the same work, side by side, on this machine's CPU.

Runs every case in rounds; in each round zsbir, PyTorch as users run it, and PyTorch with glibc's
malloc tuned (MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ / MALLOC_TOP_PAD_, which keep freed memory
instead of returning it to the kernel; fresh pages are very expensive here) run one after the other, so
that a slow spell of the machine hits all three alike. Prints the median time of each case, the ratio
zsbir / PyTorch for each setting (below 1: zsbir is faster), each process's peak RSS, and the kernels'
GFLOP/s against the measured FP32 peak, as Markdown.

Cases (the issue's): the SBIR training step for densenet121 at 224 (batch 8) and the small DenseNet at
64 (batch 32); one encoder's inference (densenet121 at 224, batch 16; small at 64, batch 64); exact
evaluation of 12,500 x 12,500 1024-d embeddings against the reference's scipy cdist + scikit-learn loop;
GEMM and conv2d kernels.

Usage: /usr/bin/python3 benchmarks/compare_torch.py [--build build] [--rounds 3] [--threads 2]
           [--only train,infer,eval,kernels] [--out FILE]
Build first: cmake --build build --target bench_model bench_eval bench_kernels
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "4294967296",
                "MALLOC_TOP_PAD_": "268435456"}

# (name, mode, backbone, batch, size, timed steps, warm-up steps)
MODEL_CASES = [
    ("train densenet121 224, batch 8", "train", "densenet121", 8, 224, 3, 1),
    ("train small 64, batch 32", "train", "small", 32, 64, 8, 2),
    ("infer densenet121 224, batch 16", "infer", "densenet121", 16, 224, 5, 1),
    ("infer small 64, batch 64", "infer", "small", 64, 64, 10, 2),
]


def run(cmd, env_extra, log):
    env = dict(os.environ, **env_extra)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    log.write(f"$ {' '.join(env_extra_text(env_extra))}{' '.join(cmd)}  ({time.perf_counter() - t0:.1f} s)\n")
    log.write(proc.stdout + proc.stderr)
    log.flush()
    if proc.returncode != 0:
        sys.exit(f"compare_torch: {' '.join(cmd)} failed with exit code {proc.returncode}:\n{proc.stderr[-2000:]}")
    results = [json.loads(line[7:]) for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if not results:
        sys.exit(f"compare_torch: {' '.join(cmd)} printed no RESULT line")
    return results


def env_extra_text(env):
    return [f"{k}={v} " for k, v in env.items()]


def fmt(v, digits=3):
    return "-" if v is None else f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None else a / b


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", default="train,infer,eval,kernels")
    ap.add_argument("--out", default="", help="also write the tables to this file")
    ap.add_argument("--log", default="compare_torch.log", help="every command's full output (default %(default)s)")
    a = ap.parse_args()
    wanted = set(a.only.split(","))
    unknown = wanted - {"train", "infer", "eval", "kernels"}
    if unknown:
        ap.error(f"--only: unknown case kinds {sorted(unknown)}")
    bench = lambda name: os.path.join(a.build, "benchmarks", name)
    for name in ("bench_model", "bench_eval", "bench_kernels"):
        if not os.access(bench(name), os.X_OK):
            ap.error(f"{bench(name)} is missing: cmake --build {a.build} --target bench_model bench_eval bench_kernels")
    threads = {"OMP_NUM_THREADS": str(a.threads)}
    settings = [("zsbir", threads), ("torch", {}), ("torch tuned", TUNED_MALLOC)]
    log = open(a.log, "w")

    rows = []
    for name, mode, backbone, batch, size, steps, warmup in MODEL_CASES:
        if mode not in wanted:
            continue
        args = ["--backbone", backbone, "--batch", str(batch), "--size", str(size), "--steps", str(steps),
                "--warmup", str(warmup)]
        times = {s: [] for s, _ in settings}
        rss = {s: [] for s, _ in settings}
        for r in range(a.rounds):
            for setting, env in settings:
                cmd = ([bench("bench_model"), mode] + args if setting == "zsbir" else
                       [PYTHON, os.path.join(HERE, "torch_model.py"), mode, "--threads", str(a.threads)] + args)
                res = run(cmd, env, log)[0]
                times[setting] += res["seconds"]
                rss[setting].append(res["peak_rss_mib"])
                print(f"  {name}, round {r + 1}, {setting}: median {statistics.median(res['seconds']):.3f} s, "
                      f"peak RSS {res['peak_rss_mib']:.0f} MiB", flush=True)
        rows.append((name, {s: statistics.median(v) for s, v in times.items()},
                     {s: statistics.median(v) for s, v in rss.items()}))

    if "eval" in wanted:
        times = {"zsbir": [], "reference": []}
        maps = {}
        for r in range(a.rounds):
            res = run([bench("bench_eval"), "--reps", "3"], threads, log)[0]
            times["zsbir"] += res["seconds"]
            maps["zsbir"] = res["map"]
            # The reference loop takes minutes: 500 queries timed, extrapolated (both parts are linear in them).
            res = run([PYTHON, os.path.join(HERE, "eval_baseline.py"), "--queries", "500"], {}, log)[0]
            times["reference"] += res["seconds"]
            print(f"  eval, round {r + 1}: zsbir {statistics.median(times['zsbir']):.3f} s, reference "
                  f"{res['seconds'][0]:.1f} s (extrapolated from 500 queries)", flush=True)
        eval_row = {s: statistics.median(v) for s, v in times.items()}

    kernels = {}
    if "kernels" in wanted:
        for r in range(a.rounds):
            for setting, env in settings:
                cmd = ([bench("bench_kernels")] if setting == "zsbir" else
                       [PYTHON, os.path.join(HERE, "torch_kernels.py"), "--threads", str(a.threads)])
                for res in run(cmd, env, log):
                    kernels.setdefault(res["kernel"], {}).setdefault(setting, []).append(res["gflops"])
                    if "peak_gflops" in res:
                        kernels[res["kernel"]].setdefault("peak", []).append(res["peak_gflops"])
            print(f"  kernels, round {r + 1} done", flush=True)

    out = [f"zsbir vs PyTorch {torch_version()} on {cpu_name()}, {a.threads} threads, median of {a.rounds} rounds "
           f"({time.strftime('%Y-%m-%d')}; `/usr/bin/python3 benchmarks/compare_torch.py --rounds {a.rounds}`)", ""]
    if rows:
        out += ["| case | zsbir s | PyTorch s | PyTorch tuned s | zsbir / PyTorch | zsbir / tuned | peak RSS MiB zsbir / PyTorch / tuned |",
                "|---|---|---|---|---|---|---|"]
        for name, t, m in rows:
            out.append(f"| {name} | {fmt(t['zsbir'])} | {fmt(t['torch'])} | {fmt(t['torch tuned'])} | "
                       f"{fmt(ratio(t['zsbir'], t['torch']), 2)} | {fmt(ratio(t['zsbir'], t['torch tuned']), 2)} | "
                       f"{m['zsbir']:.0f} / {m['torch']:.0f} / {m['torch tuned']:.0f} |")
        out.append("")
    if "eval" in wanted:
        out += ["| evaluation, 12,500 x 12,500 x 1024, mAP@all + P@100 + mAP@200 | zsbir s | reference s (scipy + sklearn) | ratio |",
                "|---|---|---|---|",
                f"| exact, ties as scikit-learn | {fmt(eval_row['zsbir'])} | {fmt(eval_row['reference'], 1)} | "
                f"{fmt(ratio(eval_row['zsbir'], eval_row['reference']), 4)} |", ""]
    if kernels:
        peak = statistics.median(next(v["peak"] for v in kernels.values() if "peak" in v))
        out += [f"| kernel (FP32 peak measured: {peak:.0f} GFLOP/s) | zsbir GFLOP/s | % of peak | PyTorch GFLOP/s | PyTorch tuned GFLOP/s |",
                "|---|---|---|---|---|"]
        for name, v in kernels.items():
            med = {s: statistics.median(v[s]) if s in v else None for s in ("zsbir", "torch", "torch tuned")}
            out.append(f"| {name} | {fmt(med['zsbir'], 1)} | {fmt(100 * med['zsbir'] / peak, 1)} | "
                       f"{fmt(med['torch'], 1)} | {fmt(med['torch tuned'], 1)} |")
        out.append("")
    text = "\n".join(out)
    print("\n" + text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


def torch_version():
    return subprocess.run([PYTHON, "-c", "import torch; print(torch.__version__)"], capture_output=True,
                          text=True).stdout.strip()


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "this CPU"


if __name__ == "__main__":
    main()
