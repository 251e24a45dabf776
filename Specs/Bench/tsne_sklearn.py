#!/usr/bin/env python3
"""scikit-learn's t-SNE on a features file, for 'specs bench tsne'.

Reads N x D little-endian float32 features, runs sklearn.manifold.TSNE with the given settings (Barnes-Hut, angle 0.5,
learning rate 'auto', early exaggeration 12) on the thread count given (OMP_NUM_THREADS and n_jobs), writes the N x 2
embedding as float32 to --out and prints one JSON line: seconds (fit_transform alone), kl_divergence, n_iter, version.
On a missing scikit-learn it prints {"error": ...} and exits 0, so the caller can show its own figures alone.
"""
import argparse
import inspect
import json
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--features", required=True)
    parser.add_argument("--n", type=int, required=True)
    parser.add_argument("--d", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--perplexity", type=float, default=30.0)
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init", choices=["pca", "random"], default="pca")
    args = parser.parse_args()
    # Before numpy and scikit-learn load their OpenMP and BLAS runtimes.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    try:
        import numpy as np
        import sklearn
        from sklearn.manifold import TSNE
    except ImportError as e:
        print(json.dumps({"error": f"scikit-learn is not importable ({e}); install Debian's python3-sklearn"}))
        return 0

    x = np.fromfile(args.features, dtype="<f4")
    if x.size != args.n * args.d:
        print(json.dumps({"error": f"{args.features} holds {x.size} floats, not {args.n} x {args.d}"}))
        return 0
    x = x.reshape(args.n, args.d)
    settings = dict(n_components=2, perplexity=args.perplexity, early_exaggeration=12.0, learning_rate="auto",
                    init=args.init, random_state=args.seed, method="barnes_hut", angle=0.5, n_jobs=args.threads)
    # The iteration count was renamed from n_iter to max_iter in scikit-learn 1.5.
    iterations = "max_iter" if "max_iter" in inspect.signature(TSNE).parameters else "n_iter"
    settings[iterations] = args.iterations
    tsne = TSNE(**settings)
    start = time.perf_counter()
    y = tsne.fit_transform(x)
    seconds = time.perf_counter() - start
    y.astype("<f4").tofile(args.out)
    print(json.dumps({"seconds": seconds, "kl_divergence": float(tsne.kl_divergence_), "n_iter": int(tsne.n_iter_) + 1,
                      "learning_rate": float(tsne.learning_rate_), "sklearn": sklearn.__version__}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
