# Times the reference route of zero-shot evaluation: scipy.spatial.distance.cdist of every query against
# the gallery, then a Python loop of sklearn.metrics.average_precision_score(relevant, 1 / distance) per
# query, as the seed's evaluate.py does; prints the seconds and the mAP, to set beside bench_eval (last
# line: "RESULT {json}" for benchmarks/compare_torch.py).
# Usage: /usr/bin/python3 benchmarks/eval_baseline.py [--data DIR] [--queries N]
#            [--total N] [--gallery N] [--dim N] [--classes N] [--seed N]
#   --data DIR  the .npy files that `bench_eval --save DIR` wrote: the very data bench_eval evaluates
#               (without it: seeded random data, --total queries x --gallery items x --dim, by default
#               12,500 x 12,500 x 1024 in 25 classes)
#   --queries N evaluate only the first N queries and extrapolate the time to all of them (cdist and the
#               loop are both linear in the number of queries); pair with `bench_eval --subset N` to
#               compare the mAP of the same N queries.
import argparse
import json
import os
import time

import numpy as np
from scipy.spatial.distance import cdist
from sklearn.metrics import average_precision_score


def load(args):
    if args.data:
        f = lambda name: np.load(os.path.join(args.data, name + ".npy"))
        return f("queries"), f("gallery"), f("query_labels").astype(np.int64), f("gallery_labels").astype(np.int64)
    rng = np.random.default_rng(args.seed)
    queries = rng.standard_normal((args.total, args.dim), dtype=np.float32)
    gallery = rng.standard_normal((args.gallery, args.dim), dtype=np.float32)
    return (queries, gallery, rng.integers(0, args.classes, queries.shape[0]),
            rng.integers(0, args.classes, gallery.shape[0]))


def main():
    parser = argparse.ArgumentParser(description="Time the reference evaluation: scipy cdist + sklearn AP per query.")
    parser.add_argument("--data", default="")
    parser.add_argument("--queries", type=int, default=0)
    parser.add_argument("--total", type=int, default=12500)
    parser.add_argument("--gallery", type=int, default=12500)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--classes", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.queries < 0:
        parser.error("--queries must be positive")
    queries, gallery, query_labels, gallery_labels = load(args)
    total = queries.shape[0]
    n = min(args.queries, total) if args.queries else total
    print("reference evaluation: %d of %d queries x %d gallery x %d dims" % (n, total, *gallery.shape))

    t0 = time.perf_counter()
    dist = cdist(queries[:n], gallery, "euclidean")
    t1 = time.perf_counter()
    aps = []
    for i in range(n):
        score = 1.0 / dist[i]
        aps.append(average_precision_score(gallery_labels == query_labels[i], score))
    t2 = time.perf_counter()

    scale = total / n
    print("cdist %.2f s, AP loop %.2f s, total %.2f s for %d queries" % (t1 - t0, t2 - t1, t2 - t0, n))
    if n < total:
        print("extrapolated to all %d queries: %.1f s" % (total, (t2 - t0) * scale))
    print("mAP@all of the %d queries %.10f" % (n, float(np.mean(aps))))
    print("RESULT " + json.dumps({"side": "reference", "mode": "eval", "queries": total, "queries_timed": n,
                                  "seconds": [(t2 - t0) * scale], "map": float(np.mean(aps))}))


if __name__ == "__main__":
    main()
