#!/usr/bin/python3
"""Runs hnswlib and FAISS HNSW on the same .fvecs/.ivecs files as `zt bench vector` and prints JSON.

Usage: /usr/bin/python3 bench/peers/hnsw_peer.py --base base.fvecs --queries query.fvecs --gt gt.ivecs \
           [--k 10] [--m 16] [--efc 200] [--threads 2] [--efs 10,16,...] [--metric l2|ip|cosine] [--engines hnswlib,faiss]

Build uses --threads threads; searches run single-threaded over the whole query batch (fastest of at least --passes passes and --min-seconds per ef).
With --serve it answers build/search commands on stdin instead, so the C# driver can interleave the timed
passes of all engines (fair on a busy machine). Memory is the growth of the process RSS while the index is built (it includes the index's copy of the vectors).
"""
import argparse
import gc
import json
import sys
import time

import numpy as np

TARGETS = [0.90, 0.95, 0.99]


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    dim = int(raw[0])
    rows = raw.reshape(-1, dim + 1)
    if not (rows[:, 0] == dim).all():
        raise SystemExit(f"{path}: inconsistent row dimensions")
    return np.ascontiguousarray(rows[:, 1:]).view(dtype)


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def recall(found, gt, k):
    hits = 0
    for row, truth in zip(found, gt):
        hits += len(set(int(x) for x in row[:k]) & set(int(x) for x in truth[:k]))
    return hits / (len(found) * k)


def sweep(search, xq, gt, k, efs, passes, min_seconds):
    points = []
    search(xq[: min(200, len(xq))], 64)  # warm up
    for ef in efs:
        if ef < k:
            continue
        best = float("inf")
        found = None
        spent = 0.0
        runs = 0
        while runs < 50 and (runs < passes or spent < min_seconds):
            t = time.perf_counter()
            labels = search(xq, ef)
            elapsed = time.perf_counter() - t
            best = min(best, elapsed)
            spent += elapsed
            runs += 1
            if found is None:
                found = labels
        points.append({"ef": ef, "recall": recall(found, gt, k), "qps": len(xq) / best})
        print(f"  ef={ef:4d} recall={points[-1]['recall']:.4f} qps={points[-1]['qps']:.0f}", file=sys.stderr)
    targets = []
    for r in TARGETS:
        hit = next((p for p in points if p["recall"] >= r), None)
        targets.append({"targetRecall": r, "ef": hit and hit["ef"], "recall": hit and hit["recall"], "qps": hit and hit["qps"]})
    return points, targets


def build_hnswlib(args, xb):
    import hnswlib

    space = {"l2": "l2", "ip": "ip", "cosine": "cosine"}[args.metric]
    n, d = xb.shape
    before = rss_bytes()
    t = time.perf_counter()
    index = hnswlib.Index(space=space, dim=d)
    index.init_index(max_elements=n, ef_construction=args.efc, M=args.m, random_seed=100)
    index.add_items(xb, np.arange(n), num_threads=args.threads)
    build = time.perf_counter() - t
    mem = rss_bytes() - before
    print(f"hnswlib build: {build:.2f} s", file=sys.stderr)

    def search(q, ef):
        index.set_ef(ef)
        labels, _ = index.knn_query(q, k=args.k, num_threads=1)
        return labels

    try:
        from importlib.metadata import version
        label = "hnswlib " + version("hnswlib") + " (python3-hnswlib)"
    except Exception:
        label = "hnswlib (python3-hnswlib)"
    return search, {"engine": label, "buildSeconds": build, "memoryBytes": mem,
                    "buildThreads": args.threads}


def build_faiss(args, xb):
    import faiss

    n, d = xb.shape
    metric = faiss.METRIC_L2 if args.metric == "l2" else faiss.METRIC_INNER_PRODUCT
    if args.metric == "cosine":
        xb = xb / np.linalg.norm(xb, axis=1, keepdims=True)
    faiss.omp_set_num_threads(args.threads)
    before = rss_bytes()
    t = time.perf_counter()
    index = faiss.IndexHNSWFlat(d, args.m, metric)
    index.hnsw.efConstruction = args.efc
    index.add(xb)
    build = time.perf_counter() - t
    mem = rss_bytes() - before
    print(f"faiss build: {build:.2f} s", file=sys.stderr)
    faiss.omp_set_num_threads(1)

    def search(q, ef):
        if args.metric == "cosine":
            q = q / np.linalg.norm(q, axis=1, keepdims=True)
        index.hnsw.efSearch = ef
        _, labels = index.search(q, args.k)
        return labels

    return search, {"engine": "faiss " + faiss.__version__ + " HNSWFlat", "buildSeconds": build, "memoryBytes": mem,
                    "buildThreads": args.threads}


BUILDERS = {"hnswlib": build_hnswlib, "faiss": build_faiss}


def serve(args, xb, xq, gt):
    """JSON-lines protocol on stdin/stdout so a driver can interleave timed passes of several engines:
    {"cmd": "build", "engine": "hnswlib"} -> build info; {"cmd": "search", "engine": "faiss", "ef": 32}
    -> {"seconds": one pass over all queries, "recall": recall@k}; {"cmd": "quit"}."""
    searchers = {}
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] == "quit":
            break
        if req["cmd"] == "build":
            searchers.pop(req["engine"], None)  # a rebuild frees the previous index first
            gc.collect()
            search, info = BUILDERS[req["engine"]](args, xb)
            search(xq[: min(200, len(xq))], 64)  # warm up
            searchers[req["engine"]] = search
            reply = info
        elif req["cmd"] == "search":
            t = time.perf_counter()
            labels = searchers[req["engine"]](xq, int(req["ef"]))
            seconds = time.perf_counter() - t
            reply = {"seconds": seconds, "recall": recall(labels, gt, args.k)}
        else:
            reply = {"error": "unknown command " + str(req["cmd"])}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--gt", required=True)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--m", type=int, default=16)
    p.add_argument("--efc", type=int, default=200)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--passes", type=int, default=3)
    p.add_argument("--min-seconds", type=float, default=0.5)
    p.add_argument("--metric", default="l2", choices=["l2", "ip", "cosine"])
    p.add_argument("--efs", default="10,16,24,32,48,64,96,128,192,256,384,512")
    p.add_argument("--engines", default="hnswlib,faiss")
    p.add_argument("--serve", action="store_true", help="answer JSON-lines commands on stdin (used by the C# driver)")
    args = p.parse_args()
    args.efs = [int(x) for x in args.efs.split(",")]

    xb = read_vecs(args.base, np.float32)
    xq = read_vecs(args.queries, np.float32)
    gt = read_vecs(args.gt, np.int32)
    if args.serve:
        serve(args, xb, xq, gt)
        return
    results = []
    for engine in args.engines.split(","):
        if engine not in BUILDERS:
            raise SystemExit(f"unknown engine {engine}")
        search, info = BUILDERS[engine](args, xb)
        info["sweep"], info["targets"] = sweep(search, xq, gt, args.k, args.efs, args.passes, args.min_seconds)
        results.append(info)
    json.dump({"count": int(xb.shape[0]), "dimension": int(xb.shape[1]), "queries": int(xq.shape[0]), "k": args.k,
               "results": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
