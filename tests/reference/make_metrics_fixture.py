# Writes tests/fixtures/retrieval/metrics.json: seeded embeddings with heavy ties and, for each query,
# scikit-learn's average_precision_score(relevant, 1 / distance), P@K and the field's AP@K (SAKE's
# eval_AP_inner + VOCap, ranked by a stable argsort), which tests/test_retrieval.cpp compares to 1e-6.
# Run with Debian's packages: /usr/bin/python3 tests/reference/make_metrics_fixture.py
# (apt-get install -y python3-sklearn python3-scipy).
import json
import os
import warnings

import numpy as np
import scipy
import sklearn
from scipy.spatial.distance import cdist
from sklearn.metrics import average_precision_score

P_AT = [1, 10, 100, 500]  # 500 is larger than either gallery: L = G
AP_AT = [1, 50, 200]


def sklearn_ap(relevant, dist):
    # The reference's score, 1 / distance, with numpy's inf at distance 0. scikit-learn 1.2 refuses inf
    # ("Input contains infinity"), so inf becomes a finite score above every other one: the ranking and
    # the tie among zero distances are kept, which is what zsbir does.
    with np.errstate(divide="ignore"):
        score = np.divide(1.0, dist)
    finite = score[np.isfinite(score)]
    score[np.isinf(score)] = 2.0 * finite.max() if finite.size else 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No positive class found in y_true": AP is 0 then
        return float(average_precision_score(relevant.astype(int), score))


def field_metrics(relevant, dist):
    # SAKE's eval_precision and eval_AP_inner(top=K) with VOCap, except that ties are ranked by gallery
    # index (a stable argsort) so that the answer is defined; AP@K of a query with no relevant item is 0.
    order = np.argsort(dist, kind="stable")
    flags = relevant[order]
    total = relevant.sum()
    p_at = {}
    for k in P_AT:
        top = min(k, dist.size)
        p_at[k] = float(flags[:top].sum() / top)
    ap_at = {}
    for k in AP_AT:
        top = min(k, dist.size)
        tot_pos = min(top, total)
        if tot_pos == 0:
            ap_at[k] = 0.0
            continue
        tp = np.cumsum(flags[:top])
        fp = np.cumsum(~flags[:top])
        rec = tp / tot_pos
        prec = tp / (tp + fp)
        mrec = np.concatenate([[0.0], rec, [1.0]])
        mpre = np.concatenate([[0.0], prec, [0.0]])
        for i in range(mpre.size - 2, -1, -1):
            mpre[i] = max(mpre[i], mpre[i + 1])
        changed = mrec[1:] != mrec[:-1]
        ap_at[k] = float(np.sum((mrec[1:][changed] - mrec[:-1][changed]) * mpre[1:][changed]))
    return p_at, ap_at


def case(name, queries, gallery, query_labels, gallery_labels):
    dist = cdist(queries.astype(np.float64), gallery.astype(np.float64))
    out = {
        "name": name,
        "dtype": str(queries.dtype),
        "dim": int(queries.shape[1]),
        "queries": queries.ravel().tolist(),
        "gallery": gallery.ravel().tolist(),
        "query_labels": query_labels.tolist(),
        "gallery_labels": gallery_labels.tolist(),
        "ap": [],
        "p_at": {str(k): [] for k in P_AT},
        "ap_at": {str(k): [] for k in AP_AT},
    }
    for i in range(queries.shape[0]):
        relevant = gallery_labels == query_labels[i]
        out["ap"].append(sklearn_ap(relevant, dist[i]))
        p_at, ap_at = field_metrics(relevant, dist[i])
        for k in P_AT:
            out["p_at"][str(k)].append(p_at[k])
        for k in AP_AT:
            out["ap_at"][str(k)].append(ap_at[k])
    out["map"] = float(np.mean(out["ap"]))
    out["class_map"] = {str(c): float(np.mean([a for a, l in zip(out["ap"], query_labels) if l == c]))
                        for c in np.unique(query_labels)}
    return out


def quantised():
    # Small integer coordinates: float32 distances are exact and ties are everywhere.
    rng = np.random.default_rng(20250101)
    Q, G, D = 29, 157, 5
    gallery = rng.integers(-2, 3, size=(G, D)).astype(np.float32)
    queries = rng.integers(-2, 3, size=(Q, D)).astype(np.float32)
    gallery_labels = rng.integers(0, 6, size=G)
    query_labels = rng.integers(0, 6, size=Q)
    gallery[10:15] = gallery[0]        # duplicates, with their own (mixed) labels
    gallery[G - 1] = gallery[0]        # one in the last column, where a GEMM's edge path runs
    gallery[100] = gallery[3]
    queries[0] = gallery[3]            # two gallery items at distance 0
    queries[1] = gallery[0]            # seven at distance 0
    query_labels[5] = 6                # a class with no gallery item: AP 0
    return case("quantised", queries, gallery, query_labels, gallery_labels)


def continuous():
    # Double embeddings with exact duplicates and one query equal to a gallery item.
    rng = np.random.default_rng(20250102)
    Q, G, D = 23, 211, 9
    gallery = rng.standard_normal((G, D))
    queries = rng.standard_normal((Q, D))
    gallery_labels = rng.integers(0, 7, size=G)
    query_labels = rng.integers(0, 7, size=Q)
    gallery[20:23] = gallery[7]
    gallery[G - 2] = gallery[7]
    queries[2] = gallery[50]
    return case("continuous", queries, gallery, query_labels, gallery_labels)


def main():
    fixture = {
        "made_by": "tests/reference/make_metrics_fixture.py with numpy %s, scipy %s, scikit-learn %s"
                   % (np.__version__, scipy.__version__, sklearn.__version__),
        "p_at": P_AT,
        "ap_at": AP_AT,
        "cases": [quantised(), continuous()],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "retrieval", "metrics.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(fixture, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
