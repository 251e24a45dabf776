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
batchnorm1d  attrs shape ([N,C] or [N,C,L]), training; inputs x, weight, bias, running_mean, running_var, dy; expected
             y, dx, dweight, dbias, running_mean, running_var (after the call). Checked through a generated network.
softplus     attrs beta, threshold (nn.Softplus's); inputs x, dy; expected y, dx. Inputs straddle the threshold
             (beta*x above it is the identity) and reach far negative values (where softplus underflows towards 0).
layernorm    attrs rows, features, eps, affine (elementwise_affine); inputs x[rows, features], [gamma, beta] [features]
             when affine, dy; expected y, dx, [dgamma, dbeta], save_mean, save_invstd (per row: the mean and
             1/sqrt(biased var + eps)).
embedding    attrs num, dim, padding_idx (-1: none); inputs ids (int64), weight[num, dim], dy; expected y, dweight.
conv1d       attrs op (conv1d | max_pool1d | avg_pool1d) and the layer's arguments; inputs x[N,C,L], [weight, bias], dy;
             expected y, dx, [dweight, dbias].
rnn, lstm,   attrs kind, batch, time, input, hidden, layers, bidirectional; inputs x[N,T,D], lengths[N] (int64),
gru          h0 (and c0), dy[N,T,dirs*H], dh_n (and dc_n), every parameter under PyTorch's names
             (weight_ih_l0, ..._reverse); expected y, h_n (c_n), x.grad, h0.grad (c0.grad), <parameter>.grad.
sequence_losses
             attrs loss ("nll" | "cross_entropy"), ignore_index, reduction "mean"; inputs x[N,C] or [N,T,C] (the class
             dimension last), labels[N] or [N,T] (int64, some equal to ignore_index); expected loss (scalar: the mean over
             the labels not ignored, as F.cross_entropy(x.reshape(-1, C), labels.reshape(-1), ignore_index=...)) and dx.
clip_grad    attrs op (norm | value), max_norm, norm_type (a number or "inf"), clip_value, count; inputs grad0..;
             expected the clipped grad0.. and (norm) total_norm[1].
tensor_ops   attrs op (matmul | add | sub | mul | div | sum | mean | max | argmax | cat | split | chunk | view) and its
             arguments (dim, keepdim, sizes, chunks, shape; dim absent: over all elements); inputs a, b (binary ops; a
             shape [] is a scalar) or x (reductions, view) or x0, x1, ... (cat); expected y, or values and indices
             (int64) for max, or y0, y1, ... (split, chunk).
attention    attrs batch (N), heads, t, s, d, dv, causal, mask ("none" | "additive" | "bool"), key_padding; inputs
             q[N*heads,T,d], k[N*heads,S,d], v[N*heads,S,dv], [mask[T,S]: additive values, or 1 = masked for "bool"],
             [key_padding[N,S]: 1 = masked], dy[N*heads,T,dv]; expected y = softmax(q k^T / sqrt(d) + masks) v,
             weights[N*heads,T,S], dq, dk, dv.
seq_nets     whole sequence networks of the language against PyTorch modules, cross-entropy (mean) on their logits:
             case "embedding_conv": Embedding(10, 6, padding_idx=0) | transpose(1, 2) | Conv1d(6, 6, 3, padding=1) | tanh
             | Conv1d(6, 4, 2, stride=2, dilation=2, groups=2) | mean over time | Linear(4, 3); case "masked_max":
             Embedding(10, 6) | transpose | Conv1d(6, 5, 3) | relu | max over each sequence's own windows (each row run
             alone at its length) | Linear(5, 3). Inputs tokens[N,T] (int64), mask[N,T] (masked_max), labels[N], every
             parameter under the generated network's names (embedding1.weight, conv1.weight, ..., fc1.bias); expected
             logits, loss, <parameter>.grad.
recurrent_nets  whole generated networks (tests/Dsl.Tests/Recurrent/Fixture*.cs, attr "network" names the class):
             x | Rnn/Lstm/Gru(hidden, layers:, bidirectional:, mask: m, h0: s[, c0: c]) returning Outputs(y, y | Last).
             attrs network, kind, batch, time, input, hidden, layers, bidirectional; inputs x[N,T,D], mask[N,T] (1s then
             0s), h0 (and c0) batch first [N, layers*dirs, H] (PyTorch's [layers*dirs, N, H] transposed; [N, H] when
             layers*dirs is 1), dy[N,T,dirs*H], dlast[N,dirs*H], every parameter under PyTorch's names; expected y
             (zeros at padding, as pad_packed_sequence), last = cat(h_n[-2], h_n[-1]) (h_n[-1] for one direction),
             x.grad, h0.grad (c0.grad) in the batch-first layout, <parameter>.grad, of sum(y*dy) + sum(last*dlast).
attention_net the generated AttentionNet: keys = memory W^T + b (fc1), y = softmax(query keys^T * scale + key mask)
             memory, out = y W2^T + b2 (fc2); key mask 0 -> -inf. attrs batch, t, s, scale ("default" = 1/sqrt(4));
             inputs query[N,T,4], memory[N,S,6], mask[N,S] (1 keep, 0 padding), fc1.weight[4,6], fc1.bias[4],
             fc2.weight[3,6], fc2.bias[3], dy[N,T,3]; expected out, weights[N,T,S], query.grad, memory.grad and every
             parameter's gradient.
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
    "embedding": 1012, "conv1d": 1013, "rnn": 1014, "lstm": 1015, "gru": 1016, "clip_grad": 1017,
    "tensor_ops": 1018, "attention": 1019,
    "batchnorm1d": 1100,
    "seq_nets": 1020,
    "attention_net": 1040,
    "sequence_losses": 1021,
    "recurrent_nets": 1030,
    "transformer": 1070,
}


# ---------------------------------------------------------------- helpers

def f32(t):
    """The float64 tensor holding exactly the float32 rounding of t (what the kernels will see)."""
    return t.to(torch.float32).to(torch.float64)


def randn(*shape, scale=1.0):
    """Normal values of the given shape (sizes, or one list of sizes: [] is a scalar)."""
    if len(shape) == 1 and isinstance(shape[0], list):
        shape = tuple(shape[0])
    return f32(torch.randn(shape, dtype=torch.float64) * scale)


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


# ---------------------------------------------------------------- sequence losses (seqtrain)

def sequence_losses():
    seed("sequence_losses")
    cases = []
    # (loss, shape, ignore_index, how many labels to ignore): PyTorch's default -100, a padding id 0, and none ignored.
    specs = [
        ("nll", (2, 5, 7), -100, 3),
        ("nll", (6, 4), -100, 2),
        ("nll", (3, 4, 5), 0, 4),
        ("cross_entropy", (3, 4, 6), -100, 5),
        ("cross_entropy", (2, 6, 9), 0, 3),
        ("cross_entropy", (5, 7), -100, 1),
        ("cross_entropy", (2, 3, 4), -100, 0),
    ]
    for loss_name, shape, ignore, ignored in specs:
        c = shape[-1]
        rows = math.prod(shape[:-1])
        raw = randn(*shape, scale=2.0)
        x = (f32(F.log_softmax(raw, dim=-1)) if loss_name == "nll" else raw).requires_grad_()
        low = 1 if ignore == 0 else 0  # a padding id of 0 is never a real target
        labels = torch.randint(low, c, (rows,), dtype=torch.int64)
        labels[torch.randperm(rows)[:ignored]] = ignore
        fn = F.nll_loss if loss_name == "nll" else F.cross_entropy
        value = fn(x.reshape(rows, c), labels, ignore_index=ignore, reduction="mean")
        (dx,) = torch.autograd.grad(value, x)
        name = "%s_%s_ignore%d_x%d" % (loss_name, "x".join(map(str, shape)), ignore, ignored)
        cases.append(case(name, {"loss": loss_name, "ignore_index": ignore, "reduction": "mean"},
                          {"x": x, "labels": labels.reshape(shape[:-1])}, {"loss": value, "dx": dx}))
    write("sequence_losses", "NLL and cross-entropy over [N,C] and [N,T,C] with ignore_index (mean over the labels "
          "not ignored): value and gradient wrt the input", cases)


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


def batchnorm1d():
    """nn.BatchNorm1d through a generated network: [N,C] and [N,C,L] samples, one training step and evaluation."""
    seed("batchnorm1d")
    cases = []
    for name, shape, training in [
        ("train_6x4", (6, 4), True),
        ("train_3x2x5", (3, 2, 5), True),
        ("eval_3x2x5", (3, 2, 5), False),
    ]:
        c = shape[1]
        x = f32(randn(*shape) * 1.5 + 0.7).requires_grad_()
        gamma = uniform(0.5, 1.5, c).requires_grad_()
        beta = randn(c, scale=0.5).requires_grad_()
        rm0 = randn(c, scale=0.3)
        rv0 = uniform(0.5, 2.0, c)
        bn = torch.nn.BatchNorm1d(c, momentum=0.1, eps=1e-5).double()
        with torch.no_grad():
            bn.weight.copy_(gamma)
            bn.bias.copy_(beta)
            bn.running_mean.copy_(rm0)
            bn.running_var.copy_(rv0)
        bn.train(training)
        y = bn(x)
        dy = randn(*shape)
        dx, dgamma, dbeta = torch.autograd.grad(y, (x, bn.weight, bn.bias), dy)
        attrs = {"shape": list(shape), "training": training}
        cases.append(case(name, attrs,
                          {"x": x, "weight": gamma, "bias": beta, "running_mean": rm0, "running_var": rv0, "dy": dy},
                          {"y": y, "dx": dx, "dweight": dgamma, "dbias": dbeta,
                           "running_mean": bn.running_mean.detach().clone(), "running_var": bn.running_var.detach().clone()}))
    write("batchnorm1d", "nn.BatchNorm1d(C) on [N,C] and [N,C,L] (momentum 0.1, eps 1e-5): a training step (batch "
          "statistics, running statistics updated) and evaluation, forward and gradients", cases)


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


def embedding():
    seed("embedding")
    cases = []
    for name, num, dim, shape, padding_idx in [
        ("padding_0_2x5", 10, 4, (2, 5), 0),
        ("no_padding_3x4", 7, 3, (3, 4), None),
    ]:
        weight = randn(num, dim).requires_grad_()
        ids = torch.randint(0, num, shape, dtype=torch.int64)
        ids.view(-1)[1] = ids.view(-1)[0]          # a repeated id: its gradients add up
        if padding_idx is not None:
            ids.view(-1)[2] = padding_idx          # the padding row is looked up but never updated
        y = F.embedding(ids, weight, padding_idx=padding_idx)
        dy = randn(*y.shape)
        (dweight,) = grads(y, dy, weight)
        attrs = {"num": num, "dim": dim, "padding_idx": -1 if padding_idx is None else padding_idx}
        cases.append(case(name, attrs, {"ids": ids, "weight": weight, "dy": dy}, {"y": y, "dweight": dweight}))
    write("embedding", "nn.Embedding(num, dim, padding_idx): rows gathered by int64 ids; the weight gradient adds up "
          "repeated ids and leaves the padding row zero (padding_idx -1: none)", cases)


def conv1d():
    seed("conv1d")
    cases = []
    for name, n, c, length, out, k, stride, pad, dil, groups, bias in [
        ("k3_pad1", 2, 4, 9, 6, 3, 1, 1, 1, 1, True),
        ("k2_stride2_dil2_groups2", 2, 4, 11, 6, 2, 2, 0, 2, 2, True),
        ("k5_nobias", 3, 3, 8, 2, 5, 1, 2, 1, 1, False),
    ]:
        x = randn(n, c, length).requires_grad_()
        w = randn(out, c // groups, k, scale=0.5).requires_grad_()
        b = randn(out).requires_grad_() if bias else None
        y = F.conv1d(x, w, b, stride=stride, padding=pad, dilation=dil, groups=groups)
        dy = randn(*y.shape)
        leaves = [x, w] + ([b] if bias else [])
        g = grads(y, dy, *leaves)
        inputs = {"x": x, "weight": w, "dy": dy}
        expected = {"y": y, "dx": g[0], "dweight": g[1]}
        if bias:
            inputs["bias"] = b
            expected["dbias"] = g[2]
        attrs = {"op": "conv1d", "batch": n, "in_channels": c, "length": length, "out_channels": out, "kernel": k,
                 "stride": stride, "padding": pad, "dilation": dil, "groups": groups, "bias": bias}
        cases.append(case(name, attrs, inputs, expected))
    for name, op, n, c, length, k, stride, pad in [
        ("max_k3_s2_p1", "max_pool1d", 2, 3, 9, 3, 2, 1),
        ("avg_k2_s2", "avg_pool1d", 2, 3, 8, 2, 2, 0),
        ("avg_k3_s1_p1", "avg_pool1d", 1, 2, 7, 3, 1, 1),
    ]:
        x = distinct(n, c, length).requires_grad_()
        if op == "max_pool1d":
            y = F.max_pool1d(x, k, stride, pad)
        else:
            y = F.avg_pool1d(x, k, stride, pad, count_include_pad=True)
        dy = randn(*y.shape)
        (dx,) = grads(y, dy, x)
        attrs = {"op": op, "batch": n, "channels": c, "length": length, "kernel": k, "stride": stride, "padding": pad}
        cases.append(case(name, attrs, {"x": x, "dy": dy}, {"y": y, "dx": dx}))
    write("conv1d", "F.conv1d (kernel, stride, padding, dilation, groups, bias) with its gradients, and F.max_pool1d / "
          "F.avg_pool1d (count_include_pad) with theirs", cases)


def recurrent(family, module, kind, cases_spec, seed_offset=0):
    """A batch-first layer with packed (padded) sequences, initial states and gradients of every parameter."""
    torch.manual_seed(SEEDS[family] + seed_offset)
    cases = []
    for name, n, t, d, h, layers, bidirectional, lengths in cases_spec:
        torch.set_default_dtype(torch.float64)
        kwargs = {"nonlinearity": kind} if module is torch.nn.RNN else {}
        net = module(d, h, num_layers=layers, bidirectional=bidirectional, batch_first=True, **kwargs)
        torch.set_default_dtype(torch.float32)
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(f32(p))
        dirs = 2 if bidirectional else 1
        x = randn(n, t, d).requires_grad_()
        h0 = randn(layers * dirs, n, h, scale=0.5).requires_grad_()
        c0 = randn(layers * dirs, n, h, scale=0.5).requires_grad_()
        lens = torch.tensor(lengths, dtype=torch.int64)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        if module is torch.nn.LSTM:
            out_packed, (hn, cn) = net(packed, (h0, c0))
        else:
            out_packed, hn = net(packed, h0)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=t)
        dout = randn(*out.shape)
        dhn = randn(*hn.shape)
        objective = (out * dout).sum() + (hn * dhn).sum()
        leaves = [x, h0] + list(net.parameters())
        if module is torch.nn.LSTM:
            dcn = randn(*cn.shape)
            objective = objective + (cn * dcn).sum()
            leaves.append(c0)
        g = torch.autograd.grad(objective, leaves)
        inputs = {"x": x, "lengths": lens, "h0": h0, "dy": dout, "dh_n": dhn}
        expected = {"y": out, "h_n": hn, "x.grad": g[0], "h0.grad": g[1]}
        if module is torch.nn.LSTM:
            inputs["c0"] = c0
            inputs["dc_n"] = dcn
            expected["c_n"] = cn
            expected["c0.grad"] = g[-1]
        for (pname, p), gp in zip(net.named_parameters(), g[2:]):
            inputs[pname] = p.detach()
            expected[pname + ".grad"] = gp
        attrs = {"kind": kind, "batch": n, "time": t, "input": d, "hidden": h, "layers": layers,
                 "bidirectional": bidirectional}
        cases.append(case(name, attrs, inputs, expected))
    return cases


RECURRENT_DOC = ("nn.%s(batch_first=True) over packed sequences (pack_padded_sequence with the given lengths, outputs "
                 "padded back to T with zeros), initial states h0[layers*dirs,N,H] (and c0), outputs y[N,T,dirs*H], "
                 "h_n (c_n), and the gradients of sum(y*dy) + sum(h_n*dh_n) (+ sum(c_n*dc_n)) for x, h0 (c0) and every "
                 "parameter under PyTorch's names")


def rnn():
    spec_tanh = [("tanh_bidirectional", 3, 5, 3, 4, 1, True, [5, 2, 4])]
    spec_relu = [("relu_bidirectional", 3, 5, 3, 4, 1, True, [3, 5, 1])]
    cases = recurrent("rnn", torch.nn.RNN, "tanh", spec_tanh)
    cases += recurrent("rnn", torch.nn.RNN, "relu", spec_relu, seed_offset=100)
    write("rnn", RECURRENT_DOC % "RNN", cases)


def lstm():
    cases = recurrent("lstm", torch.nn.LSTM, "lstm", [
        ("bidirectional", 3, 5, 3, 4, 1, True, [5, 2, 4]),
        ("two_layer_bidirectional", 2, 4, 3, 3, 2, True, [4, 3]),
    ])
    write("lstm", RECURRENT_DOC % "LSTM", cases)


def gru():
    cases = recurrent("gru", torch.nn.GRU, "gru", [
        ("bidirectional", 3, 5, 3, 4, 1, True, [5, 2, 4]),
        ("two_layer_bidirectional", 2, 4, 3, 3, 2, True, [4, 3]),
    ])
    write("gru", RECURRENT_DOC % "GRU", cases)


# ---------------------------------------------------------------- recurrent networks (the generated layers end to end)

def recurrent_nets():
    """nn.RNN/LSTM/GRU over pack_padded_sequence as whole generated networks see them: mask in, batch-first states."""
    torch.manual_seed(SEEDS["recurrent_nets"])
    spec = [
        # network, module, kind, n, t, d, h, layers, bidirectional, lengths
        ("FixtureRnnNet", torch.nn.RNN, "tanh", 3, 5, 3, 4, 1, False, [5, 2, 4]),
        ("FixtureRnnReluNet", torch.nn.RNN, "relu", 3, 5, 3, 4, 2, True, [3, 5, 1]),
        ("FixtureLstmNet", torch.nn.LSTM, "lstm", 3, 5, 3, 4, 1, False, [5, 3, 1]),
        ("FixtureLstmStackNet", torch.nn.LSTM, "lstm", 3, 4, 3, 3, 2, True, [4, 2, 3]),
        ("FixtureGruStackNet", torch.nn.GRU, "gru", 3, 5, 3, 4, 2, False, [5, 4, 2]),
        ("FixtureGruBiNet", torch.nn.GRU, "gru", 3, 5, 3, 4, 1, True, [5, 2, 4]),
    ]
    cases = []
    for network, module, kind, n, t, d, h, layers, bidirectional, lengths in spec:
        torch.set_default_dtype(torch.float64)
        kwargs = {"nonlinearity": kind} if module is torch.nn.RNN else {}
        net = module(d, h, num_layers=layers, bidirectional=bidirectional, batch_first=True, **kwargs)
        torch.set_default_dtype(torch.float32)
        with torch.no_grad():
            for p in net.parameters():
                p.copy_(f32(p))
        lstm = module is torch.nn.LSTM
        dirs = 2 if bidirectional else 1
        x = randn(n, t, d).requires_grad_()
        # The generated layer takes the states batch first: [N, layers*dirs, H], or [N, H] for one layer-direction.
        h0b = randn(n, layers * dirs, h, scale=0.5).requires_grad_()
        c0b = randn(n, layers * dirs, h, scale=0.5).requires_grad_()
        lens = torch.tensor(lengths, dtype=torch.int64)
        mask = (torch.arange(t).unsqueeze(0) < lens.unsqueeze(1)).to(torch.float64)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        h0 = h0b.transpose(0, 1).contiguous()
        if lstm:
            out_packed, (hn, _) = net(packed, (h0, c0b.transpose(0, 1).contiguous()))
        else:
            out_packed, hn = net(packed, h0)
        y, _ = torch.nn.utils.rnn.pad_packed_sequence(out_packed, batch_first=True, total_length=t)
        last = torch.cat([hn[-2], hn[-1]], dim=1) if bidirectional else hn[-1]
        dy = randn(*y.shape)
        dlast = randn(*last.shape)
        objective = (y * dy).sum() + (last * dlast).sum()
        leaves = [x, h0b] + ([c0b] if lstm else []) + list(net.parameters())
        g = torch.autograd.grad(objective, leaves)
        state = (lambda v: v.reshape(n, h)) if layers * dirs == 1 else (lambda v: v)
        inputs = {"x": x, "mask": mask, "h0": state(h0b), "dy": dy, "dlast": dlast}
        expected = {"y": y, "last": last, "x.grad": g[0], "h0.grad": state(g[1])}
        if lstm:
            inputs["c0"] = state(c0b)
            expected["c0.grad"] = state(g[2])
        for (pname, p), gp in zip(net.named_parameters(), g[3 if lstm else 2:]):
            inputs[pname] = p.detach()
            expected[pname + ".grad"] = gp
        attrs = {"network": network, "kind": kind, "batch": n, "time": t, "input": d, "hidden": h, "layers": layers,
                 "bidirectional": bidirectional}
        cases.append(case(network, attrs, inputs, expected))
    write("recurrent_nets", "generated Rnn/Lstm/Gru networks (mask, batch-first initial states, Last) against nn.RNN/LSTM/GRU "
          "over pack_padded_sequence: outputs, the last state and the gradients of sum(y*dy) + sum(last*dlast)", cases)


def clip_grad():
    seed("clip_grad")
    cases = []
    shapes = [(4, 3), (5,), (2, 2, 3)]
    for name, max_norm, norm_type in [
        ("l2_clipped", 1.0, 2.0),
        ("l2_unclipped", 100.0, 2.0),
        ("l1_clipped", 2.0, 1.0),
        ("l3_clipped", 0.5, 3.0),
        ("inf_clipped", 0.3, math.inf),
    ]:
        params = [torch.nn.Parameter(torch.zeros(*s, dtype=torch.float64)) for s in shapes]
        for p in params:
            p.grad = randn(*p.shape)
        inputs = {"grad%d" % i: p.grad.clone() for i, p in enumerate(params)}
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        expected = {"grad%d" % i: p.grad for i, p in enumerate(params)}
        expected["total_norm"] = total.reshape(1)
        attrs = {"op": "norm", "max_norm": max_norm, "norm_type": "inf" if math.isinf(norm_type) else repr(norm_type),
                 "count": len(shapes)}
        cases.append(case(name, attrs, inputs, expected))
    params = [torch.nn.Parameter(torch.zeros(*s, dtype=torch.float64)) for s in shapes]
    for p in params:
        p.grad = randn(*p.shape)
    inputs = {"grad%d" % i: p.grad.clone() for i, p in enumerate(params)}
    torch.nn.utils.clip_grad_value_(params, 0.4)
    cases.append(case("value_0.4", {"op": "value", "clip_value": 0.4, "count": len(shapes)}, inputs,
                      {"grad%d" % i: p.grad for i, p in enumerate(params)}))
    write("clip_grad", "torch.nn.utils.clip_grad_norm_ (max_norm, norm_type 1, 2, 3, inf; expected total_norm and the "
          "scaled gradients) and clip_grad_value_", cases)


def tensor_ops():
    seed("tensor_ops")
    cases = []
    matmuls = [("dot_issue", None, None), ("dot", [5], [5]), ("mv", [4, 3], [3]), ("vm", [3], [3, 5]),
               ("mm", [4, 3], [3, 5]), ("batched", [2, 3, 4], [2, 4, 5]), ("broadcast_issue", [2, 1, 4, 3], [5, 3, 6]),
               ("broadcast_ones", [1, 3, 4], [2, 4, 5]), ("vector_batched", [3], [2, 3, 4]),
               ("batched_vector", [2, 3, 4], [4]), ("matrix_batched", [4, 3], [2, 3, 5])]
    for name, sa, sb in matmuls:
        if sa is None:
            a, b = torch.tensor([4.0, 2.0], dtype=torch.float64), torch.tensor([3.0, 1.0], dtype=torch.float64)
        else:
            a, b = randn(*sa), randn(*sb)
        cases.append(case("matmul_" + name, {"op": "matmul"}, {"a": a, "b": b}, {"y": torch.matmul(a, b)}))
    binaries = [("same", [2, 3], [2, 3]), ("rows", [3, 1, 4], [2, 4]), ("outer", [4, 1], [1, 3]), ("scalar", [2, 3], []),
                ("scalar_first", [], [3, 2]), ("one", [5], [1]), ("leading", [2, 1, 3, 1], [4, 1, 5])]
    ops = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}
    for op, fn in ops.items():
        for name, sa, sb in binaries:
            a = randn(sa)
            b = away_from_zero(randn(sb), 0.3) if op == "div" else randn(sb)
            cases.append(case("%s_%s" % (op, name), {"op": op}, {"a": a, "b": b}, {"y": fn(a, b)}))
    x = distinct(3, 4, 5)
    for dim in [None, 0, 1, 2, -1]:
        for keepdim in ([False] if dim is None else [False, True]):
            suffix = "all" if dim is None else "dim%d%s" % (dim, "_keep" if keepdim else "")
            attrs = {} if dim is None else {"dim": dim, "keepdim": keepdim}
            if dim is None:
                cases.append(case("sum_" + suffix, dict(op="sum", **attrs), {"x": x}, {"y": x.sum()}))
                cases.append(case("mean_" + suffix, dict(op="mean", **attrs), {"x": x}, {"y": x.mean()}))
                cases.append(case("max_" + suffix, dict(op="max", **attrs), {"x": x}, {"values": x.max()}))
                cases.append(case("argmax_" + suffix, dict(op="argmax", **attrs), {"x": x}, {"indices": x.argmax()}))
            else:
                cases.append(case("sum_" + suffix, dict(op="sum", **attrs), {"x": x}, {"y": x.sum(dim, keepdim=keepdim)}))
                cases.append(case("mean_" + suffix, dict(op="mean", **attrs), {"x": x}, {"y": x.mean(dim, keepdim=keepdim)}))
                values, indices = x.max(dim, keepdim=keepdim)
                cases.append(case("max_" + suffix, dict(op="max", **attrs), {"x": x}, {"values": values, "indices": indices}))
                cases.append(case("argmax_" + suffix, dict(op="argmax", **attrs), {"x": x}, {"indices": x.argmax(dim, keepdim=keepdim)}))
    for dim, shapes in [(0, [[2, 3], [1, 3], [4, 3]]), (1, [[2, 3, 2], [2, 1, 2], [2, 4, 2]]), (-1, [[3, 2], [3, 5]])]:
        parts = [randn(*s) for s in shapes]
        cases.append(case("cat_dim%d" % dim, {"op": "cat", "dim": dim, "count": len(parts)},
                          {"x%d" % i: p for i, p in enumerate(parts)}, {"y": torch.cat(parts, dim)}))
    x = randn(3, 7, 2)
    for name, arg in [("split_2", 2), ("split_sizes", [1, 4, 2])]:
        pieces = torch.split(x, arg, 1)
        attrs = {"op": "split", "dim": 1, "count": len(pieces)}
        attrs["size" if isinstance(arg, int) else "sizes"] = arg
        cases.append(case(name, attrs, {"x": x}, {"y%d" % i: p for i, p in enumerate(pieces)}))
    pieces = torch.chunk(x, 3, 1)
    cases.append(case("chunk_3", {"op": "chunk", "dim": 1, "chunks": 3, "count": len(pieces)}, {"x": x},
                      {"y%d" % i: p for i, p in enumerate(pieces)}))
    x = randn(4, 3, 5)
    cases.append(case("view_issue", {"op": "view", "shape": [12, 5]}, {"x": x}, {"y": x.view(12, 5)}))
    write("tensor_ops", "torch.matmul (dot, mv, mm, batched with broadcasting of the leading dimensions), add/sub/mul/div "
          "with broadcasting and scalars, sum/mean/max/argmax over all elements or one dimension (keepdim), cat, split, "
          "chunk and view", cases)


def attention():
    seed("attention")
    cases = []
    specs = [("plain", 2, 2, 3, 4, 5, 3, False, "none", False),
             ("causal", 1, 2, 5, 5, 4, 4, True, "none", False),
             ("additive_mask", 2, 1, 3, 4, 4, 2, False, "additive", False),
             ("bool_mask_key_padding", 2, 2, 4, 5, 3, 3, False, "bool", True),
             ("causal_key_padding", 2, 2, 4, 4, 3, 5, True, "none", True),
             ("long_keys", 1, 1, 3, 150, 4, 3, False, "none", True)]
    for name, n, heads, t, s, d, dv, causal, mask_kind, key_padding in specs:
        b = n * heads
        q, k, v = randn(b, t, d), randn(b, s, d), randn(b, s, dv)
        dy = randn(b, t, dv)
        inputs = {"q": q, "k": k, "v": v}
        bias = torch.zeros(b, t, s, dtype=torch.float64)
        if mask_kind == "additive":
            mask = uniform(-3.0, 0.0, t, s)
            inputs["mask"] = mask
            bias = bias + mask
        elif mask_kind == "bool":
            masked = torch.rand(t, s) < 0.3
            masked[:, 0] = False  # every query keeps a key
            inputs["mask"] = masked.to(torch.float64)
            bias = bias.masked_fill(masked, float("-inf"))
        if causal:
            bias = bias.masked_fill(torch.ones(t, s, dtype=torch.bool).triu(1), float("-inf"))
        if key_padding:
            padded = torch.zeros(n, s, dtype=torch.bool)
            for i in range(n):
                padded[i, s - 1 - i:] = True  # sample i ignores its last i+1 keys
            inputs["key_padding"] = padded.to(torch.float64)
            bias = (bias.view(n, heads, t, s) + torch.zeros(n, s, dtype=torch.float64).masked_fill(padded, float("-inf")).view(n, 1, 1, s)).view(b, t, s)
        inputs["dy"] = dy
        leaves = [x.clone().requires_grad_(True) for x in (q, k, v)]
        scores = leaves[0] @ leaves[1].transpose(-1, -2) / math.sqrt(d) + bias
        weights = torch.softmax(scores, dim=-1)
        y = weights @ leaves[2]
        dq, dk, dv_ = grads(y, dy, *leaves)
        attrs = {"batch": n, "heads": heads, "t": t, "s": s, "d": d, "dv": dv, "causal": causal, "mask": mask_kind,
                 "key_padding": key_padding}
        cases.append(case(name, attrs, inputs, {"y": y, "weights": weights, "dq": dq, "dk": dk, "dv": dv_}))
    write("attention", "scaled dot-product attention written out as softmax(q k^T / sqrt(d) + masks) v in float64 "
          "(additive, boolean and causal masks, key padding per sample shared by its heads) with the gradients of q, k, v",
          cases)


# ---------------------------------------------------------------- seq_nets: generated sequence networks end to end

def seq_nets():
    seed("seq_nets")
    cases = []

    def params(named):
        with torch.no_grad():
            for _, p in named:
                p.copy_(f32(p))
        return named

    # Embedding and two Conv1d (padding; stride, dilation and groups) with a mean over time.
    torch.set_default_dtype(torch.float64)
    emb = torch.nn.Embedding(10, 6, padding_idx=0)
    conv1 = torch.nn.Conv1d(6, 6, 3, padding=1)
    conv2 = torch.nn.Conv1d(6, 4, 2, stride=2, dilation=2, groups=2)
    fc1 = torch.nn.Linear(4, 3)
    torch.set_default_dtype(torch.float32)
    named = params([("embedding1.weight", emb.weight), ("conv1.weight", conv1.weight), ("conv1.bias", conv1.bias),
                    ("conv2.weight", conv2.weight), ("conv2.bias", conv2.bias), ("fc1.weight", fc1.weight),
                    ("fc1.bias", fc1.bias)])
    tokens = torch.randint(0, 10, (3, 9), dtype=torch.int64)
    tokens[0, 1] = tokens[0, 0]      # a repeated id: its gradients add up
    tokens[1, 7:] = 0                # padding ids: looked up (zero row), never updated
    labels = torch.tensor([2, 0, 1], dtype=torch.int64)
    h = emb(tokens).transpose(1, 2)
    h = conv2(torch.tanh(conv1(h)))
    logits = fc1(h.mean(dim=2))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    inputs = {"tokens": tokens, "labels": labels}
    expected = {"logits": logits, "loss": loss}
    for name, p in named:
        inputs[name] = p.detach()
        expected[name + ".grad"] = p.grad
    cases.append(case("embedding_conv", {"network": "SeqFixtureNet"}, inputs, expected))

    # Max over time restricted to each sequence's own windows: every row run alone at its length, as the mask promises.
    torch.set_default_dtype(torch.float64)
    emb = torch.nn.Embedding(10, 6)
    conv1 = torch.nn.Conv1d(6, 5, 3)
    fc1 = torch.nn.Linear(5, 3)
    torch.set_default_dtype(torch.float32)
    named = params([("embedding1.weight", emb.weight), ("conv1.weight", conv1.weight), ("conv1.bias", conv1.bias),
                    ("fc1.weight", fc1.weight), ("fc1.bias", fc1.bias)])
    lengths = [9, 6, 4]
    tokens = torch.randint(1, 10, (3, 9), dtype=torch.int64)
    mask = torch.zeros(3, 9, dtype=torch.float64)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1.0
    labels = torch.tensor([1, 2, 0], dtype=torch.int64)
    rows = []
    for i, n in enumerate(lengths):
        h = torch.relu(conv1(emb(tokens[i:i + 1, :n]).transpose(1, 2)))
        rows.append(h.max(dim=2).values)
    logits = fc1(torch.cat(rows, dim=0))
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    inputs = {"tokens": tokens, "mask": mask, "labels": labels}
    expected = {"logits": logits, "loss": loss}
    for name, p in named:
        inputs[name] = p.detach()
        expected[name + ".grad"] = p.grad
    cases.append(case("masked_max", {"network": "MaskedFixtureNet"}, inputs, expected))
    write("seq_nets", "generated sequence networks against PyTorch modules: Embedding, Conv1d (padding, stride, dilation, "
          "groups), mean over time, and max over time restricted to each sequence's windows by its mask", cases)
def attention_net():
    """The generated AttentionNet (tests/Dsl.Tests/Networks/AttentionNet.cs) written out in float64."""
    seed("attention_net")
    cases = []
    for name, n, t, s, scale, lengths in [("masked_default_scale", 3, 4, 5, None, [5, 3, 1]),
                                          ("unmasked_scale_half", 2, 3, 6, 0.5, [6, 6])]:
        query, memory = randn(n, t, 4), randn(n, s, 6)
        mask = torch.zeros(n, s, dtype=torch.float64)
        for i, length in enumerate(lengths):
            mask[i, :length] = 1.0
        params = {"fc1.weight": uniform(-0.4, 0.4, 4, 6), "fc1.bias": uniform(-0.4, 0.4, 4),
                  "fc2.weight": uniform(-0.4, 0.4, 3, 6), "fc2.bias": uniform(-0.4, 0.4, 3)}
        dy = randn(n, t, 3)
        leaves = {k: v.clone().requires_grad_(True) for k, v in [("query", query), ("memory", memory)] + list(params.items())}
        keys = leaves["memory"] @ leaves["fc1.weight"].T + leaves["fc1.bias"]
        bias = torch.zeros(n, s, dtype=torch.float64).masked_fill(mask == 0, float("-inf")).view(n, 1, s)
        scores = leaves["query"] @ keys.transpose(-1, -2) * (1 / math.sqrt(4) if scale is None else scale) + bias
        weights = torch.softmax(scores, dim=-1)
        y = weights @ leaves["memory"]
        out = y @ leaves["fc2.weight"].T + leaves["fc2.bias"]
        names = list(leaves)
        gradients = grads(out, dy, *[leaves[k] for k in names])
        inputs = {"query": query, "memory": memory, "mask": mask, **params, "dy": dy}
        expected = {"out": out, "weights": weights}
        expected.update({k + ".grad": g for k, g in zip(names, gradients)})
        attrs = {"batch": n, "t": t, "s": s, "scale": "default" if scale is None else scale}
        cases.append(case(name, attrs, inputs, expected))
    write("attention_net", "the generated AttentionNet (a Linear on the memory as keys, Attention with a key mask, a Linear) "
          "written out in float64: output, attention weights, input and parameter gradients", cases)


def transformer():
    """The Transformer's built-in layers through generated networks (tests/Dsl.Tests/Transformer/TransformerNets.cs)."""
    seed("transformer")
    torch.manual_seed(SEEDS["transformer"])
    nn = torch.nn
    cases = []

    def lengths_mask(n, length, lengths):
        mask = torch.zeros(n, length, dtype=torch.float64)
        for i, k in enumerate(lengths):
            mask[i, :k] = 1.0
        return mask

    def run(name, network, prefix, module, n, t, s, d, mode, mask=None, memory_mask=None, causal=False, decoder=False, cross=False):
        module = module.double()
        with torch.no_grad():
            for p in module.parameters():
                p.copy_(f32(p + 0.1 * torch.randn_like(p)))  # biases away from PyTorch's zeros, so their gradients show
        module.train(mode == "train")
        x = randn(n, t, d).requires_grad_(True)
        memory = randn(n, s, d).requires_grad_(True) if (decoder or cross) else None
        causal_mask = torch.triu(torch.ones(t, t, dtype=torch.bool), 1) if causal else None
        padding = None if mask is None else mask == 0
        memory_padding = None if memory_mask is None else memory_mask == 0
        if isinstance(module, nn.MultiheadAttention):
            keys = memory if cross else x
            y, _ = module(x, keys, keys, key_padding_mask=padding, attn_mask=causal_mask, need_weights=False)
        elif decoder:
            y = module(x, memory, tgt_mask=causal_mask, tgt_key_padding_mask=padding, memory_key_padding_mask=memory_padding)
        else:
            y = module(x, src_mask=causal_mask, src_key_padding_mask=padding)
        dy = randn(n, t, d)
        named = list(module.named_parameters())
        leaves = [x] + ([memory] if memory is not None else []) + [p for _, p in named]
        gradients = grads(y, dy, *leaves)
        inputs = {"x": x.detach(), "dy": dy}
        expected = {"y": y.detach(), "x.grad": gradients[0]}
        k = 1
        if memory is not None:
            inputs["memory"] = memory.detach()
            expected["memory.grad"] = gradients[1]
            k = 2
        if mask is not None:
            inputs["mask"] = mask
        if memory_mask is not None:
            inputs["memoryMask"] = memory_mask
        for (pname, p), g in zip(named, gradients[k:]):
            inputs[prefix + pname] = p.detach()
            expected[prefix + pname + ".grad"] = g
        cases.append(case(name, {"network": network, "mode": mode, "batch": n, "t": t, "s": s, "parameters": len(named)}, inputs, expected))

    d = 8
    run("mha_key_padding", "MhaSelfNet", "mha1.", nn.MultiheadAttention(d, 2, batch_first=True), 3, 5, 5, d, "train",
        mask=lengths_mask(3, 5, [5, 3, 1]))
    run("mha_causal", "MhaCausalNet", "mha1.", nn.MultiheadAttention(d, 2, batch_first=True), 2, 6, 6, d, "train", causal=True)
    run("mha_cross_key_padding", "MhaCrossNet", "mha1.", nn.MultiheadAttention(d, 4, batch_first=True), 2, 3, 7, d, "train",
        mask=lengths_mask(2, 7, [7, 4]), cross=True)
    run("encoder_post_norm_train", "EncoderTrainNet", "encoder1.",
        nn.TransformerEncoderLayer(d, 2, dim_feedforward=16, dropout=0.0, batch_first=True), 3, 5, 5, d, "train",
        mask=lengths_mask(3, 5, [5, 2, 4]))
    run("encoder_post_norm_eval", "EncoderEvalNet", "encoder1.",
        nn.TransformerEncoderLayer(d, 2, dim_feedforward=16, dropout=0.1, batch_first=True), 3, 5, 5, d, "eval",
        mask=lengths_mask(3, 5, [5, 2, 4]))
    run("encoder_norm_first_gelu_causal", "EncoderNormFirstNet", "encoder1.",
        nn.TransformerEncoderLayer(d, 4, dim_feedforward=12, dropout=0.0, activation="gelu", batch_first=True, norm_first=True),
        2, 6, 6, d, "train", causal=True)
    run("decoder_post_norm_train", "DecoderTrainNet", "decoder1.",
        nn.TransformerDecoderLayer(d, 2, dim_feedforward=16, dropout=0.0, batch_first=True), 2, 4, 6, d, "train",
        memory_mask=lengths_mask(2, 6, [6, 3]), causal=True, decoder=True)
    run("decoder_norm_first_eval", "DecoderNormFirstNet", "decoder1.",
        nn.TransformerDecoderLayer(d, 2, dim_feedforward=16, dropout=0.1, batch_first=True, norm_first=True), 2, 4, 6, d, "eval",
        mask=lengths_mask(2, 4, [4, 3]), memory_mask=lengths_mask(2, 6, [6, 3]), causal=True, decoder=True)
    # The sinusoid table of the course's formula, written out in float64 (positions 0..maxLen-1, width 6).
    pos = torch.arange(12, dtype=torch.float64).unsqueeze(1)
    div = torch.pow(10000.0, torch.arange(0, 6, 2, dtype=torch.float64) / 6)
    pe = torch.zeros(12, 6, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(pos / div)
    pe[:, 1::2] = torch.cos(pos / div)
    cases.append(case("positional_table", {"maxLen": 12, "d": 6}, {}, {"pe": pe}))
    write("transformer", "nn.MultiheadAttention (key padding, causal, cross-attention), nn.TransformerEncoderLayer and "
          "nn.TransformerDecoderLayer (post-norm and norm_first, relu and gelu, train mode with dropout 0 and eval mode with "
          "dropout 0.1) in float64 through generated networks: outputs, input, memory and parameter gradients of sum(y*dy); "
          "parameters perturbed from PyTorch's init; masks 1 = real, 0 = padding; and the sinusoidal positional table", cases)


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
    batchnorm1d()
    tiny_mlp()
    softplus()
    layernorm()
    embedding()
    conv1d()
    rnn()
    lstm()
    gru()
    clip_grad()
    tensor_ops()
    attention()
    seq_nets()
    sequence_losses()
    recurrent_nets()
    attention_net()
    transformer()


if __name__ == "__main__":
    import sys
    if len(sys.argv) > 1:
        # Regenerate only the families named: python3 make_fixtures.py seq_nets
        torch.set_default_dtype(torch.float32)
        for family in sys.argv[1:]:
            globals()[family]()
    else:
        main()
