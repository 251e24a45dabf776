"""Times numpy float32 matmul (OpenBLAS sgemm when numpy is linked to it) for the GEMM benchmark.

Reads {"shapes": [{"m", "n", "k", "transA", "transB"}, ...], "repetitions": r, "seconds": s} on stdin.
A is stored [k, m] when transA and B [n, k] when transB, as in CpuGemm; the transposes are numpy views,
so sgemm receives them as transpose flags, not copies. The caller sets OPENBLAS_NUM_THREADS.
Prints {"backend": "...", "gflops": [median GFLOP/s per shape]} on stdout.
"""
import json
import os
import sys
import time

import numpy as np


def blas_backend():
    try:
        with open("/proc/self/maps") as maps:
            libs = {line.split()[-1] for line in maps if "blas" in line.lower()}
    except OSError:
        return "unknown"
    for lib in sorted(libs):
        if "openblas" in lib.lower():
            return "OpenBLAS"
    return ", ".join(sorted(os.path.basename(lib) for lib in libs)) or "unknown"


def time_shape(shape, repetitions, seconds):
    m, n, k = shape["m"], shape["n"], shape["k"]
    rng = np.random.default_rng(1)
    a = rng.standard_normal((k, m) if shape["transA"] else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if shape["transB"] else (k, n), dtype=np.float32)
    op_a = a.T if shape["transA"] else a
    op_b = b.T if shape["transB"] else b
    c = np.empty((m, n), dtype=np.float32)
    np.matmul(op_a, op_b, out=c)
    # Calibrate so one repetition lasts about `seconds`, then warm up once more.
    iterations = 1
    while True:
        start = time.perf_counter()
        for _ in range(iterations):
            np.matmul(op_a, op_b, out=c)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4 or iterations >= 1 << 20:
            break
        iterations *= 2
    iterations = max(1, int(iterations * seconds / max(elapsed, 1e-9)))
    rates = []
    for _ in range(repetitions):
        start = time.perf_counter()
        for _ in range(iterations):
            np.matmul(op_a, op_b, out=c)
        elapsed = time.perf_counter() - start
        rates.append(2.0 * m * n * k * iterations / elapsed / 1e9)
    rates.sort()
    return rates[len(rates) // 2]


def main():
    request = json.load(sys.stdin)
    repetitions = int(request.get("repetitions", 7))
    seconds = float(request.get("seconds", 0.02))
    gflops = [time_shape(s, repetitions, seconds) for s in request["shapes"]]
    print(json.dumps({"backend": blas_backend(), "gflops": gflops}))


if __name__ == "__main__":
    main()
