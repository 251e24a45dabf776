#!/usr/bin/env python3
"""Reference fixtures for the runtime's kernels, computed with PyTorch (1.13) autograd.

Regenerate (from the repository root, with a Python that has torch installed):

    python3 tests/Dsl.Tests/Fixtures/make_fixtures.py

The script is deterministic (one fixed torch seed per family), so rerunning it rewrites the same
files. PyTorch is only a reference for these files; the library never depends on it.

How the numbers are made
------------------------
Every input is drawn in float64, rounded to float32 (the values stored), and the reference is then
computed in float64 from those rounded values, so the stored outputs and gradients are the exact
answers for float32 inputs, rounded once to float32. Values are written with 9 significant digits,
which round-trips float32 exactly.

Schema (every file)
-------------------
{
  "family":      "linear" | "activations" | ... ,
  "description": what the cases check,
  "generator":   "tests/Dsl.Tests/Fixtures/make_fixtures.py",
  "torch":       the torch version that produced the file,
  "seed":        the torch seed of this family,
  "cases": [
    {
      "name":     unique within the file, e.g. "conv_same_even_kernel",
      "attrs":    { hyper-parameters: numbers, booleans, strings },
      "inputs":   { tensor name: TENSOR },   # what the kernel receives (including the upstream gradient "dy")
      "expected": { tensor name: TENSOR }    # PyTorch's outputs and gradients
    }, ...
  ]
}
TENSOR = { "shape": [d0, d1, ...], "data": [row-major values] } with an optional "dtype": "int64"
(absent means float32). A scalar has shape [] and one value.

Names per family
----------------
linear       inputs x[N,In], weight[Out,In], bias[Out], dy[N,Out]; expected y, dx, dweight, dbias.
activations  attrs kind (an ActivationKind name), alpha; inputs x, dy; expected y, dx.
softmax      attrs log; inputs x, dy; expected y, dx (over the last dimension).
losses       attrs loss ("nll" | "cross_entropy" | "mse"), reduction "mean"; inputs x and labels (int64) or
             target; expected loss (scalar), dx = d loss / d x.
optimizers   attrs optimizer ("sgd" | "adam" | "adamw"), lr, momentum, dampening, nesterov, weight_decay,
             beta1, beta2, eps, steps; inputs param0 (initial value), grads[steps, ...] (the gradient fed at each
             step: write it into Parameter.Grad before step t); expected params[steps, ...] (value after each step).
conv2d       attrs batch, in_channels, height, width, out_channels, kernel_h, kernel_w, stride_h, stride_w,
             pad_top, pad_left, pad_bottom, pad_right, dilation_h, dilation_w, groups, bias, torch_padding (what
             nn.Conv2d was given, e.g. "same"); the explicit pads are the equivalent asymmetric padding.
             inputs x, weight, [bias], dy; expected y, dx, dweight, [dbias].
pool         attrs op ("max" | "avg" | "adaptive_avg"), batch, channels, height, width, and kernel_h, kernel_w,
             stride_h, stride_w, pad_h, pad_w, count_include_pad (max/avg) or out_height, out_width (adaptive);
             inputs x, dy; expected y, dx.
batchnorm    attrs batch, channels, height, width, training, momentum, eps; inputs x, gamma, beta, running_mean,
             running_var (before the call), dy; expected y, dx, dgamma, dbeta, running_mean, running_var (after
             the call), save_mean, save_invstd (the batch mean and 1/sqrt(biased var + eps) in training, the
             running statistics in evaluation).
softplus     attrs beta, threshold (nn.Softplus's); inputs x, dy; expected y, dx. Inputs straddle the threshold
             (beta*x above it is the identity) and reach far negative values (where softplus underflows towards 0).
layernorm    attrs rows, features, eps, affine (elementwise_affine); inputs x[rows, features], [gamma, beta] [features]
             when affine, dy; expected y, dx, [dgamma, dbeta], save_mean, save_invstd (per row: the mean and
             1/sqrt(biased var + eps)).
tiny_mlp     Input(6) | Linear(5) | Tanh | Linear(4) | Relu | Linear(3) | LogSoftmax trained with NLL (mean).
             inputs x[4,6], labels[4] (int64), fc1.weight[5,6], fc1.bias[5], fc2.weight[4,5], fc2.bias[4],
             fc3.weight[3,4], fc3.bias[3] (PyTorch layouts [out,in]); expected logp[4,3], loss (scalar),
             fc1.weight.grad, fc1.bias.grad, ... for every parameter, and x.grad = d loss / d x.
"""

import json
import math
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = {
    "linear": 1001, "activations": 1002, "softmax": 1003, "losses": 1004, "optimizers": 1005,
    "conv2d": 1006, "pool": 1007, "batchnorm": 1008, "tiny_mlp": 1009,
    "softplus": 1010, "layernorm": 1011,
}


# ---------------------------------------------------------------- helpers

def f32(t):
    """The float64 tensor holding exactly the float32 rounding of t (what the kernels will see)."""
    return t.to(torch.float32).to(torch.float64)


def randn(*shape, scale=1.0):
    return f32(torch.randn(*shape, dtype=torch.float64) * scale)


def uniform(low, high, *shape):
    return f32(torch.rand(*shape, dtype=torch.float64) * (high - low) + low)


def away_from_zero(t, margin=0.05):
    """Moves values out of (-margin, margin): kinks (Relu, LeakyRelu, Elu) sit at 0."""
    t = t.clone()
    small = t.abs() < margin
    t[small] = torch.where(t[small] >= 0, t[small] + 2 * margin, t[small] - 2 * margin)
    return f32(t)


def distinct(*shape, spread=4.0):
    """Values that are pairwise at least spread/numel apart (no near-ties for max pooling)."""
    n = math.prod(shape)
    perm = torch.randperm(n).to(torch.float64)
    noise = torch.rand(n, dtype=torch.float64) * 0.3
    v = (perm + noise) / n * spread - spread / 2
    return f32(v.reshape(*shape))


def fmt(v):
    return float("%.9g" % v)


def tensor(t):
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.reshape(-1).tolist()]}
    data = t.detach().to(torch.float32).to(torch.float64).reshape(-1).tolist()
    return {"shape": list(t.shape), "data": [fmt(v) for v in data]}


def case(name, attrs, inputs, expected):
    return {
        "name": name,
        "attrs": attrs,
        "inputs": {k: tensor(v) for k, v in inputs.items()},
        "expected": {k: tensor(v) for k, v in expected.items()},
    }


def grads(output, dy, *leaves):
    return torch.autograd.grad(output, leaves, grad_outputs=dy, allow_unused=False)


def write(family, description, cases):
    doc = {
        "family": family,
        "description": description,
        "generator": "tests/Dsl.Tests/Fixtures/make_fixtures.py",
        "torch": torch.__version__,
        "seed": SEEDS[family],
        "cases": cases,
    }
    path = os.path.join(HERE, family + ".json")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print("%-18s %3d cases %8d bytes" % (family + ".json", len(cases), os.path.getsize(path)))


def seed(family):
    torch.manual_seed(SEEDS[family])


# ---------------------------------------------------------------- families

def linear():
    seed("linear")
    cases = []
    for name, n, i, o in [("linear_4x7_to_5", 4, 7, 5), ("linear_3x16_to_9", 3, 16, 9)]:
        x = randn(n, i).requires_grad_()
        w = randn(o, i, scale=0.5).requires_grad_()
        b = randn(o).requires_grad_()
        dy = randn(n, o)
        y = F.linear(x, w, b)
        dx, dw, db = grads(y, dy, x, w, b)
        cases.append(case(name, {}, {"x": x, "weight": w, "bias": b, "dy": dy},
                          {"y": y, "dx": dx, "dweight": dw, "dbias": db}))
    write("linear", "nn.Linear: y = x W^T + b and its gradients", cases)


def activations():
    seed("activations")
    specs = [
        ("relu", "Relu", 0.0, F.relu),
        ("tanh", "Tanh", 0.0, torch.tanh),
        ("sigmoid", "Sigmoid", 0.0, torch.sigmoid),
        ("leaky_relu_0.01", "LeakyRelu", 0.01, lambda x: F.leaky_relu(x, 0.01)),
        ("leaky_relu_0.2", "LeakyRelu", 0.2, lambda x: F.leaky_relu(x, 0.2)),
        ("elu_1.0", "Elu", 1.0, lambda x: F.elu(x, 1.0)),
        ("gelu_exact", "Gelu", 0.0, lambda x: F.gelu(x, approximate="none")),
    ]
    cases = []
    for name, kind, alpha, fn in specs:
        x = away_from_zero(torch.randn(3, 8, dtype=torch.float64) * 2.5).requires_grad_()
        dy = randn(3, 8)
        y = fn(x)
        (dx,) = grads(y, dy, x)
        cases.append(case(name, {"kind": kind, "alpha": alpha}, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    write("activations", "elementwise activations and their gradients (inputs kept away from 0)", cases)


def softmax():
    seed("softmax")
    cases = []
    for log in (False, True):
        for shape in ((4, 6), (2, 3, 5)):
            x = randn(*shape, scale=2.0).requires_grad_()
            dy = randn(*shape)
            y = F.log_softmax(x, dim=-1) if log else F.softmax(x, dim=-1)
            (dx,) = grads(y, dy, x)
            name = ("log_softmax" if log else "softmax") + "_" + "x".join(map(str, shape))
            cases.append(case(name, {"log": log}, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    write("softmax", "softmax and log-softmax over the last dimension", cases)


def losses():
    seed("losses")
    cases = []
    for n, c in [(4, 5), (7, 3)]:
        logp = F.log_softmax(randn(n, c, scale=2.0), dim=-1)
        x = f32(logp).requires_grad_()
        labels = torch.randint(0, c, (n,), dtype=torch.int64)
        loss = F.nll_loss(x, labels, reduction="mean")
        (dx,) = torch.autograd.grad(loss, x)
        cases.append(case("nll_%dx%d" % (n, c), {"loss": "nll", "reduction": "mean"},
                          {"x": x, "labels": labels}, {"loss": loss, "dx": dx}))
    for n, c in [(4, 5), (6, 10)]:
        x = randn(n, c, scale=3.0).requires_grad_()
        labels = torch.randint(0, c, (n,), dtype=torch.int64)
        loss = F.cross_entropy(x, labels, reduction="mean")
        (dx,) = torch.autograd.grad(loss, x)
        cases.append(case("cross_entropy_%dx%d" % (n, c), {"loss": "cross_entropy", "reduction": "mean"},
                          {"x": x, "labels": labels}, {"loss": loss, "dx": dx}))
    for shape in [(4, 3), (2, 3, 4)]:
        x = randn(*shape).requires_grad_()
        target = randn(*shape)
        loss = F.mse_loss(x, target, reduction="mean")
        (dx,) = torch.autograd.grad(loss, x)
        cases.append(case("mse_" + "x".join(map(str, shape)), {"loss": "mse", "reduction": "mean"},
                          {"x": x, "target": target}, {"loss": loss, "dx": dx}))
    write("losses", "mean-reduced NLL, cross-entropy and MSE: value and gradient wrt the input", cases)


def optimizers():
    seed("optimizers")
    steps = 5
    # A fixed quadratic-ish problem: f(p) = 0.5 p^T A p - c^T p + 0.1 sum(p^4) / 4; its gradient at the current
    # parameter, plus a little noise, rounded to float32, is the gradient fed at each step (and recorded).
    m = randn(6, 6, scale=0.5)
    a = m @ m.T + torch.eye(6, dtype=torch.float64)
    c = randn(6)
    specs = [
        ("sgd", "sgd", dict(lr=0.1)),
        ("sgd_momentum_0.9", "sgd", dict(lr=0.1, momentum=0.9, dampening=0.0)),
        ("sgd_nesterov_0.5", "sgd", dict(lr=0.1, momentum=0.5, nesterov=True)),
        ("sgd_weight_decay_0.01", "sgd", dict(lr=0.1, weight_decay=1e-2)),
        ("sgd_momentum_0.9_dampening_0.3_weight_decay_0.01", "sgd",
         dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=1e-2)),
        ("adam", "adam", dict(lr=0.05)),
        ("adam_weight_decay_0.1", "adam", dict(lr=0.05, weight_decay=0.1)),
        ("adamw_weight_decay_0.1", "adamw", dict(lr=0.05, weight_decay=0.1)),
    ]
    cases = []
    for name, kind, kw in specs:
        p0 = randn(2, 3)
        p = torch.nn.Parameter(p0.clone())
        if kind == "sgd":
            opt = torch.optim.SGD([p], **kw)
        elif kind == "adam":
            opt = torch.optim.Adam([p], betas=(0.9, 0.999), eps=1e-8, **kw)
        else:
            opt = torch.optim.AdamW([p], betas=(0.9, 0.999), eps=1e-8, **kw)
        gs, ps = [], []
        for _ in range(steps):
            v = p.detach().reshape(-1)
            g = f32((a @ v - c + 0.1 * v ** 3 + 0.05 * torch.randn(6, dtype=torch.float64)).reshape(2, 3))
            p.grad = g.clone()
            opt.step()
            gs.append(g)
            ps.append(p.detach().clone())
        group = opt.param_groups[0]
        attrs = {
            "optimizer": kind, "lr": group["lr"], "steps": steps,
            "momentum": group.get("momentum", 0.0), "dampening": group.get("dampening", 0.0),
            "nesterov": bool(group.get("nesterov", False)), "weight_decay": group["weight_decay"],
            "beta1": group.get("betas", (0.9, 0.999))[0], "beta2": group.get("betas", (0.9, 0.999))[1],
            "eps": group.get("eps", 1e-8),
        }
        cases.append(case(name, attrs, {"param0": p0, "grads": torch.stack(gs)}, {"params": torch.stack(ps)}))
    write("optimizers", "torch.optim trajectories: parameter after each of 5 steps for a given gradient sequence",
          cases)


def same_padding(k, d):
    total = d * (k - 1)
    return total // 2, total - total // 2


def conv2d():
    seed("conv2d")
    # name, N, C, H, W, OutC, (KH, KW), stride, padding (int, pair or "same"), dilation, groups, bias
    specs = [
        ("conv_3x3", 2, 3, 7, 6, 4, (3, 3), (1, 1), (0, 0), (1, 1), 1, True),
        ("conv_3x3_stride_2_pad_1", 2, 3, 8, 7, 4, (3, 3), (2, 2), (1, 1), (1, 1), 1, True),
        ("conv_same_even_kernel_4", 2, 2, 6, 7, 3, (4, 4), (1, 1), "same", (1, 1), 1, True),
        ("conv_same_kernel_2x3", 1, 3, 5, 6, 2, (2, 3), (1, 1), "same", (1, 1), 1, True),
        ("conv_same_kernel_2_dilation_3", 2, 2, 7, 7, 3, (2, 2), (1, 1), "same", (3, 3), 1, False),
        ("conv_dilation_2_pad_2", 2, 3, 8, 8, 4, (3, 3), (1, 1), (2, 2), (2, 2), 1, True),
        ("conv_groups_2_no_bias", 2, 4, 6, 6, 6, (3, 3), (1, 1), (1, 1), (1, 1), 2, False),
        ("conv_depthwise_groups_3", 2, 3, 6, 5, 6, (3, 3), (1, 1), (1, 1), (1, 1), 3, True),
        ("conv_rect_3x2_stride_2x1_pad_1x0", 2, 3, 9, 6, 4, (3, 2), (2, 1), (1, 0), (1, 1), 1, True),
        ("conv_1x1", 2, 5, 4, 4, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    ]
    cases = []
    for name, n, cin, h, w, cout, k, s, pad, d, groups, has_bias in specs:
        x = randn(n, cin, h, w).requires_grad_()
        wt = randn(cout, cin // groups, k[0], k[1], scale=0.5).requires_grad_()
        b = randn(cout).requires_grad_() if has_bias else None
        y = F.conv2d(x, wt, b, stride=s, padding=pad, dilation=d, groups=groups)
        if pad == "same":
            top, bottom = same_padding(k[0], d[0])
            left, right = same_padding(k[1], d[1])
            # Check the explicit equivalent: PyTorch puts total // 2 on the top/left, the rest bottom/right.
            y2 = F.conv2d(F.pad(x, (left, right, top, bottom)), wt, b, stride=s, dilation=d, groups=groups)
            assert torch.allclose(y, y2, rtol=0, atol=1e-12), name
            assert y.shape[2:] == x.shape[2:], name
            torch_padding = "same"
        else:
            top, bottom, left, right = pad[0], pad[0], pad[1], pad[1]
            torch_padding = "(%d, %d)" % pad
        dy = randn(*y.shape)
        leaves = (x, wt) + ((b,) if has_bias else ())
        g = grads(y, dy, *leaves)
        attrs = {
            "batch": n, "in_channels": cin, "height": h, "width": w, "out_channels": cout,
            "kernel_h": k[0], "kernel_w": k[1], "stride_h": s[0], "stride_w": s[1],
            "pad_top": top, "pad_left": left, "pad_bottom": bottom, "pad_right": right,
            "dilation_h": d[0], "dilation_w": d[1], "groups": groups, "bias": has_bias,
            "torch_padding": torch_padding,
        }
        inputs = {"x": x, "weight": wt, "dy": dy}
        expected = {"y": y, "dx": g[0], "dweight": g[1]}
        if has_bias:
            inputs["bias"] = b
            expected["dbias"] = g[2]
        cases.append(case(name, attrs, inputs, expected))
    write("conv2d", "nn.Conv2d (cross-correlation) forward and gradients across stride, padding, dilation, groups",
          cases)


def pool():
    seed("pool")
    cases = []
    # name, op, N, C, H, W, kernel, stride, pad, count_include_pad
    specs = [
        ("max_2x2_stride_2", "max", 2, 3, 6, 6, (2, 2), (2, 2), (0, 0), True),
        ("max_3x3_stride_2_pad_1", "max", 2, 2, 7, 7, (3, 3), (2, 2), (1, 1), True),
        ("max_3x2_stride_2x1_pad_1x0", "max", 1, 3, 7, 5, (3, 2), (2, 1), (1, 0), True),
        ("avg_2x2_stride_2", "avg", 2, 3, 6, 6, (2, 2), (2, 2), (0, 0), True),
        ("avg_3x3_stride_2_pad_1_include_pad", "avg", 2, 2, 7, 6, (3, 3), (2, 2), (1, 1), True),
        ("avg_3x3_stride_2_pad_1_exclude_pad", "avg", 2, 2, 7, 6, (3, 3), (2, 2), (1, 1), False),
        ("avg_3x3_stride_1_pad_1_exclude_pad", "avg", 1, 2, 5, 5, (3, 3), (1, 1), (1, 1), False),
    ]
    for name, op, n, c, h, w, k, s, p, cip in specs:
        x = distinct(n, c, h, w).requires_grad_()
        if op == "max":
            y = F.max_pool2d(x, k, s, p)
        else:
            y = F.avg_pool2d(x, k, s, p, count_include_pad=cip)
        dy = randn(*y.shape)
        (dx,) = grads(y, dy, x)
        attrs = {"op": op, "batch": n, "channels": c, "height": h, "width": w,
                 "kernel_h": k[0], "kernel_w": k[1], "stride_h": s[0], "stride_w": s[1],
                 "pad_h": p[0], "pad_w": p[1], "count_include_pad": cip}
        cases.append(case(name, attrs, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    for name, n, c, h, w, oh, ow in [
        ("adaptive_avg_5x5_to_3x3", 2, 3, 5, 5, 3, 3),
        ("adaptive_avg_5x5_to_1x1", 2, 3, 5, 5, 1, 1),
        ("adaptive_avg_7x5_to_3x2", 1, 2, 7, 5, 3, 2),
    ]:
        x = randn(n, c, h, w).requires_grad_()
        y = F.adaptive_avg_pool2d(x, (oh, ow))
        dy = randn(*y.shape)
        (dx,) = grads(y, dy, x)
        attrs = {"op": "adaptive_avg", "batch": n, "channels": c, "height": h, "width": w,
                 "out_height": oh, "out_width": ow}
        cases.append(case(name, attrs, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    write("pool", "MaxPool2d, AvgPool2d (count_include_pad both ways) and AdaptiveAvgPool2d forward and gradients",
          cases)


def batchnorm():
    seed("batchnorm")
    cases = []
    momentum, eps = 0.1, 1e-5
    for name, n, c, h, w, training in [
        ("train_4x3x3x3", 4, 3, 3, 3, True),
        ("train_8x2x1x1", 8, 2, 1, 1, True),
        ("eval_4x3x3x3", 4, 3, 3, 3, False),
    ]:
        x = (randn(n, c, h, w) * 1.5 + 0.7)
        x = f32(x).requires_grad_()
        gamma = uniform(0.5, 1.5, c).requires_grad_()
        beta = randn(c, scale=0.5).requires_grad_()
        rm0 = randn(c, scale=0.3)
        rv0 = uniform(0.5, 2.0, c)
        rm, rv = rm0.clone(), rv0.clone()
        y = F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=momentum, eps=eps)
        dy = randn(n, c, h, w)
        dx, dgamma, dbeta = grads(y, dy, x, gamma, beta)
        xd = x.detach()
        if training:
            save_mean = xd.mean(dim=(0, 2, 3))
            save_invstd = 1.0 / torch.sqrt(xd.var(dim=(0, 2, 3), unbiased=False) + eps)
        else:
            save_mean = rm0.clone()
            save_invstd = 1.0 / torch.sqrt(rv0 + eps)
        attrs = {"batch": n, "channels": c, "height": h, "width": w, "training": training,
                 "momentum": momentum, "eps": eps}
        cases.append(case(name, attrs,
                          {"x": x, "gamma": gamma, "beta": beta, "running_mean": rm0, "running_var": rv0, "dy": dy},
                          {"y": y, "dx": dx, "dgamma": dgamma, "dbeta": dbeta, "running_mean": rm, "running_var": rv,
                           "save_mean": save_mean, "save_invstd": save_invstd}))
    write("batchnorm", "nn.BatchNorm2d: training step (batch statistics, running-statistics update with momentum 0.1) "
          "and evaluation mode, forward and gradients", cases)


def softplus():
    seed("softplus")
    cases = []
    for name, beta, threshold in [("default", 1.0, 20.0), ("beta_2_threshold_5", 2.0, 5.0), ("beta_0.5_threshold_1", 0.5, 1.0)]:
        # Spread over [-30, 30] so some beta*x lie above the threshold and some far below 0.
        x = f32(torch.linspace(-30, 30, 24, dtype=torch.float64) + torch.rand(24, dtype=torch.float64) * 0.1)
        x = x.reshape(3, 8).requires_grad_()
        dy = randn(3, 8)
        y = F.softplus(x, beta=beta, threshold=threshold)
        (dx,) = grads(y, dy, x)
        cases.append(case(name, {"beta": beta, "threshold": threshold}, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    # Small inputs, where log1p matters (no threshold crossing).
    x = randn(4, 5, scale=3.0).requires_grad_()
    dy = randn(4, 5)
    y = F.softplus(x)
    (dx,) = grads(y, dy, x)
    cases.append(case("default_normal_inputs", {"beta": 1.0, "threshold": 20.0}, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    write("softplus", "nn.Softplus(beta, threshold): log(1 + exp(beta x)) / beta, the identity where beta x > threshold",
          cases)


def layernorm():
    seed("layernorm")
    cases = []
    eps = 1e-5
    for name, rows, features, affine in [
        ("affine_6x10", 6, 10, True),
        ("affine_3x33", 3, 33, True),
        ("plain_5x7", 5, 7, False),
    ]:
        x = f32(randn(rows, features) * 2.0 + 0.5).requires_grad_()
        dy = randn(rows, features)
        inputs = {"x": x}
        leaves = [x]
        if affine:
            gamma = uniform(0.5, 1.5, features).requires_grad_()
            beta = randn(features, scale=0.5).requires_grad_()
            inputs["gamma"] = gamma
            inputs["beta"] = beta
            leaves += [gamma, beta]
            y = F.layer_norm(x, (features,), gamma, beta, eps=eps)
        else:
            y = F.layer_norm(x, (features,), None, None, eps=eps)
        inputs["dy"] = dy
        g = grads(y, dy, *leaves)
        xd = x.detach()
        expected = {"y": y, "dx": g[0],
                    "save_mean": xd.mean(dim=1),
                    "save_invstd": 1.0 / torch.sqrt(xd.var(dim=1, unbiased=False) + eps)}
        if affine:
            expected["dgamma"] = g[1]
            expected["dbeta"] = g[2]
        attrs = {"rows": rows, "features": features, "eps": eps, "affine": affine}
        cases.append(case(name, attrs, inputs, expected))
    write("layernorm", "nn.LayerNorm(features) over the last dimension, with and without the elementwise affine, "
          "forward, saved statistics and gradients", cases)


def tiny_mlp():
    seed("tiny_mlp")
    torch.set_default_dtype(torch.float64)
    net = torch.nn.Sequential()
    net.add_module("fc1", torch.nn.Linear(6, 5))
    net.add_module("tanh", torch.nn.Tanh())
    net.add_module("fc2", torch.nn.Linear(5, 4))
    net.add_module("relu", torch.nn.ReLU())
    net.add_module("fc3", torch.nn.Linear(4, 3))
    net.add_module("logsoftmax", torch.nn.LogSoftmax(dim=-1))
    torch.set_default_dtype(torch.float32)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(f32(p))
    x = randn(4, 6)
    labels = torch.randint(0, 3, (4,), dtype=torch.int64)
    x.requires_grad_(True)
    logp = net(x)
    loss = F.nll_loss(logp, labels, reduction="mean")
    loss.backward()
    inputs = {"x": x.detach(), "labels": labels}
    expected = {"logp": logp, "loss": loss, "x.grad": x.grad}
    for pname, p in net.named_parameters():
        inputs[pname] = p.detach()
        expected[pname + ".grad"] = p.grad
    attrs = {"network": "Input(6) | Linear(5) | Tanh | Linear(4) | Relu | Linear(3) | LogSoftmax",
             "loss": "nll", "reduction": "mean"}
    write("tiny_mlp", "a small MLP with PyTorch's default initialisation: NLL loss, every parameter's gradient and "
          "the input gradient",
          [case("tiny_mlp", attrs, inputs, expected)])


def main():
    torch.set_default_dtype(torch.float32)
    linear()
    activations()
    softmax()
    losses()
    optimizers()
    conv2d()
    pool()
    batchnorm()
    tiny_mlp()
    softplus()
    layernorm()


if __name__ == "__main__":
    main()
