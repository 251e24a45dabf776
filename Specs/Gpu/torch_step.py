#!/usr/bin/python3
"""PyTorch side of the GPU check (Specs/Gpu/GpuCheck.cs): eager-mode timings on the same card, all in one process
(importing torch takes seconds): --train NET:BATCH (repeatable) and --gemm SIZE.

  train: one training step (forward, NLL loss, zero_grad, backward, SGD lr 0.01 momentum 0.5) of a network from
         torch_nets.py (the layer-for-layer twins of Specs/Networks) on random 1x28x28 inputs kept on the device; the
         loss is read once after the timed steps, as the C# side reads it.
  gemm:  C = A B at SIZE^3 in FP32 with TF32 tensor cores switched off, so the figure compares with a CUDA-core GEMM.
Prints one JSON line {"torch": ..., "device": ..., "train": {"NET:BATCH": ms, ...}, "gemm": ms}, or {"error": ...} and
exit code 3 when PyTorch or the device is missing.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", action="append", default=[], help="NET:BATCH, e.g. mnist-net:64")
    ap.add_argument("--gemm", type=int, default=0)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as e:
        print(json.dumps({"error": f"PyTorch is not installed ({e})"}))
        sys.exit(3)
    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False"}))
        sys.exit(3)
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def train(net, batch):
        import torch_nets
        model = torch_nets.build(net, nn).to(device)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.5)
        x = torch.rand(batch, 1, 28, 28, device=device) * 2 - 1
        y = torch.randint(0, 10, (batch,), device=device)
        total = torch.zeros((), device=device)

        def step():
            loss = F.nll_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss.detach()

        for _ in range(args.warmup):
            total += step()
        sync()
        start = time.perf_counter()
        for _ in range(args.steps):
            total += step()
        float(total)  # the one read, as the C# side's loss meter
        return (time.perf_counter() - start) * 1000 / args.steps

    def gemm(n):
        a = torch.rand(n, n, device=device) - 0.5
        b = torch.rand(n, n, device=device) - 0.5
        c = a @ b
        sync()
        repeats = 5 if n >= 1024 else 1
        start = time.perf_counter()
        for _ in range(repeats):
            c = a @ b
        sync()
        return (time.perf_counter() - start) * 1000 / repeats

    result = {
        "torch": torch.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "train": {},
    }
    for job in args.train:
        net, batch = job.split(":")
        result["train"][job] = train(net, int(batch))
    if args.gemm > 0:
        result["gemm"] = gemm(args.gemm)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
