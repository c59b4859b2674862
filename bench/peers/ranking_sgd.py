#!/usr/bin/python3
"""scikit-learn peer for `zt bench ranking`: logistic regression by SGD on the same hashed svmlight files.

Usage: /usr/bin/python3 bench/peers/ranking_sgd.py TRAIN.svm TEST.svm N_FEATURES [REPEATS]
Prints one JSON object per configuration. Only fit() is timed (not loading, not scoring), by wall clock and by this thread's CPU time
(time.thread_time, the clock the C# side reads); throughput is computed from the CPU time.
Single thread: SGDClassifier's binary fit is single-threaded; BLAS threads are pinned to 1 anyway.
"""
import json
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_svmlight_file  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression, SGDClassifier  # noqa: E402
from sklearn.metrics import log_loss, roc_auc_score  # noqa: E402


def main():
    train_path, test_path, n_features = sys.argv[1], sys.argv[2], int(sys.argv[3])
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    x_train, y_train = load_svmlight_file(train_path, n_features=n_features, zero_based=True, dtype=np.float64)
    x_test, y_test = load_svmlight_file(test_path, n_features=n_features, zero_based=True, dtype=np.float64)
    n = x_train.shape[0]

    configs = []
    for alpha in (1e-3, 1e-4, 1e-5, 1e-6):
        configs.append((f"SGDClassifier(log_loss, alpha={alpha:g}, 1 epoch)",
                        lambda a=alpha: SGDClassifier(loss="log_loss", alpha=a, max_iter=1, tol=None, random_state=0)))
    configs.append(("SGDClassifier(log_loss), defaults (alpha=1e-4, max_iter=1000, tol=1e-3)",
                    lambda: SGDClassifier(loss="log_loss", random_state=0)))
    if n <= 200_000:  # a batch-solver accuracy reference; too slow to be worth it on the 1M set
        configs.append(("LogisticRegression(lbfgs, C=1, max_iter=100)",
                        lambda: LogisticRegression(solver="lbfgs", C=1.0, max_iter=100)))

    for name, make in configs:
        model = None
        best_cpu, best_wall = float("inf"), float("inf")
        for _ in range(repeats if "SGD" in name else 1):
            model = make()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start, start_cpu = time.perf_counter(), time.thread_time()
                model.fit(x_train, y_train)
                cpu, wall = time.thread_time() - start_cpu, time.perf_counter() - start
            if cpu < best_cpu:  # best of repeats by thread CPU time, as the C# side does
                best_cpu, best_wall = cpu, wall
        seconds = best_cpu
        epochs = int(np.max(model.n_iter_)) if hasattr(model, "n_iter_") else 1
        p = model.predict_proba(x_test)[:, 1]
        print(json.dumps({
            "name": name,
            "sklearn": sklearn.__version__,
            "train_seconds": best_wall,
            "train_cpu_seconds": best_cpu,
            "epochs": epochs,
            "samples_per_second": n * epochs / seconds if "SGD" in name else n / seconds,
            "auc": float(roc_auc_score(y_test, p)),
            "logloss": float(log_loss(y_test, p)),
        }), flush=True)


if __name__ == "__main__":
    main()
