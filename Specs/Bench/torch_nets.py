#!/usr/bin/python3
"""PyTorch side of `bench train`: trains the same network on the same Fashion-MNIST files and prints samples/s.

Networks, layer for layer as in Specs/Networks:
  mlp        784-256-128-100-10 with ReLU and log-softmax
  mnist-net  PyTorch's MNIST example (conv 10@5x5, max-pool, ReLU, conv 20@5x5, Dropout2d, max-pool, ReLU,
             fc 320-50, ReLU, dropout, fc 50-10, log-softmax)
  two-conv   conv 32@5x5 "same", ReLU, max-pool, conv 64@5x5 "same", ReLU, max-pool, fc 3136-1024, ReLU,
             dropout 0.4, fc 1024-10, log-softmax
  resnet20   conv 16@3x3 + BN + ReLU, three stages of three basic blocks (16/32/64 channels; the first block of
             stages 2 and 3 has a stride-2 3x3 convolution and a 1x1 stride-2 projection + BN on the shortcut),
             global average pooling, fc 64-10, log-softmax
  densenet   DenseNet-BC, growth 12: conv 24@3x3, three dense blocks of four BN-ReLU-conv1x1(48)-BN-ReLU-conv3x3(12)
             layers concatenated onto their input, transitions BN-ReLU-conv1x1 (36, 42)-avg-pool 2, BN, ReLU,
             global average pooling, fc 90-10, log-softmax
Text classifiers (--batches-file: the padded, length-bucketed batches of fortunes token ids, masks and labels that
`bench train` writes, replayed in the same order; padding is ignored as on the C# side):
  kim-cnn           embedding 8192x128 (padding row 0), three Conv1d of 100 maps and widths 3, 4, 5, ReLU, max over
                    each quote's own windows (0 when it has none), concatenated to 300, dropout 0.5, linear 300-8
  bilstm-attention  embedding 8192x128 (padding row 0), bidirectional LSTM of 128 per direction over each quote's words
                    (pack_padded_sequence), attention pooling (importance x_t . c, softmax over the words, weighted
                    sum) to 256, dropout 0.5, linear 256-8
  transformer-classifier  embedding 8192x128 (padding row 0) plus the sinusoid table, dropout 0.1, nn.TransformerEncoder
                    of two post-norm layers (4 heads, feed-forward 256, dropout 0.1, src_key_padding_mask), mean over
                    each quote's words, dropout 0.1, linear 128-8
NLL loss, SGD with momentum, image batches drawn from a seeded shuffle of the training set, the images scaled as the C#
side scales them ((x/255 - 0.2860) / 0.3530). Training throughput covers batch gathering, forward, loss, zero_grad,
backward, step and reading the loss value; evaluation throughput is forward alone in eval mode under no_grad, at the
same batch size. Warm-up batches are excluded. Reads the IDX files itself (gzip + struct; no torchvision). Prints one
JSON line; exit code 3 when PyTorch is missing.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    zero, dtype, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype != 0x08:
        raise SystemExit(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(f">{ndim}i", raw[4:4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim:]


def find(folder, name):
    for candidate in (name + ".gz", name):
        path = os.path.join(folder, candidate)
        if os.path.exists(path):
            return path
    raise SystemExit(f"{os.path.join(folder, name)}[.gz]: not found")


class MnistNet:
    """Built lazily so that importing this file does not need torch."""

    @staticmethod
    def create(nn):
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
                self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
                self.conv2_drop = nn.Dropout2d(0.5)
                self.fc1 = nn.Linear(320, 50)
                self.fc2 = nn.Linear(50, 10)
                self.drop = nn.Dropout(0.5)

            def forward(self, x):
                import torch.nn.functional as F
                x = F.relu(F.max_pool2d(self.conv1(x), 2))
                x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
                x = x.flatten(1)
                x = self.drop(F.relu(self.fc1(x)))
                return F.log_softmax(self.fc2(x), dim=1)

        return Net()


def conv_bn(nn, cin, cout, kernel, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=False), nn.BatchNorm2d(cout))


def resnet20(nn):
    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.body = nn.Sequential(conv_bn(nn, cin, cout, 3, stride), nn.ReLU(), conv_bn(nn, cout, cout, 3, 1))
            self.shortcut = conv_bn(nn, cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()
            self.relu = nn.ReLU()

        def forward(self, x):
            return self.relu(self.body(x) + self.shortcut(x))

    layers = [conv_bn(nn, 1, 16, 3, 1), nn.ReLU()]
    cin = 16
    for cout in (16, 32, 64):
        for i in range(3):
            layers.append(Block(cin, cout, 2 if i == 0 and cout != 16 else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


def densenet(nn):
    import torch

    class DenseLayer(nn.Module):
        def __init__(self, cin, growth):
            super().__init__()
            self.body = nn.Sequential(
                nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, 4 * growth, 1, bias=False),
                nn.BatchNorm2d(4 * growth), nn.ReLU(), nn.Conv2d(4 * growth, growth, 3, padding=1, bias=False))

        def forward(self, x):
            return torch.cat([x, self.body(x)], dim=1)

    growth, c = 12, 24
    layers = [nn.Conv2d(1, c, 3, padding=1, bias=False)]
    for block, out in enumerate((36, 42, None)):
        for _ in range(4):
            layers.append(DenseLayer(c, growth))
            c += growth
        if out is not None:
            layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, out, 1, bias=False), nn.AvgPool2d(2)]
            c = out
    layers += [nn.BatchNorm2d(c), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10), nn.LogSoftmax(dim=1)]
    return nn.Sequential(*layers)


class KimCnn:
    @staticmethod
    def create(nn, vocab, classes):
        import torch

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(vocab, 128, padding_idx=0)
                self.convs = nn.ModuleList([nn.Conv1d(128, 100, k) for k in (3, 4, 5)])
                self.drop = nn.Dropout(0.5)
                self.fc = nn.Linear(300, classes)

            def forward(self, tokens, mask):
                x = self.embedding(tokens).transpose(1, 2)
                lengths = mask.sum(dim=1).long()
                pooled = []
                for conv in self.convs:
                    y = torch.relu(conv(x))
                    windows = (lengths - conv.kernel_size[0] + 1).clamp(min=0)
                    valid = torch.arange(y.shape[2]).unsqueeze(0) < windows.unsqueeze(1)
                    y = y.masked_fill(~valid.unsqueeze(1), float("-inf")).max(dim=2).values
                    pooled.append(torch.where(windows.unsqueeze(1) > 0, y, torch.zeros_like(y)))
                return self.fc(self.drop(torch.cat(pooled, dim=1)))

        return Net()


class BiLstmAttention:
    @staticmethod
    def create(nn, vocab, classes):
        import torch

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(vocab, 128, padding_idx=0)
                self.lstm = nn.LSTM(128, 128, batch_first=True, bidirectional=True)
                self.context = nn.Parameter(torch.empty(256).uniform_(-1 / 16, 1 / 16))
                self.drop = nn.Dropout(0.5)
                self.fc = nn.Linear(256, classes)

            def forward(self, tokens, mask):
                lengths = mask.sum(dim=1).long()
                packed = nn.utils.rnn.pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
                h, _ = self.lstm(packed)
                h, _ = nn.utils.rnn.pad_packed_sequence(h, batch_first=True, total_length=tokens.shape[1])
                importance = (h @ self.context).masked_fill(mask == 0, float("-inf"))
                weights = torch.softmax(importance, dim=1)
                return self.fc(self.drop((weights.unsqueeze(2) * h).sum(dim=1)))

        return Net()


class TransformerClassifier:
    """The same as Specs/Networks/TransformerClassifier.cs: nn.TransformerEncoder of two post-norm layers."""

    @staticmethod
    def create(nn, vocab, classes):
        import math
        import torch

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = nn.Embedding(vocab, 128, padding_idx=0)
                pos = torch.arange(256, dtype=torch.float64).unsqueeze(1)
                div = torch.pow(10000.0, torch.arange(0, 128, 2, dtype=torch.float64) / 128)
                pe = torch.zeros(256, 128, dtype=torch.float64)
                pe[:, 0::2] = torch.sin(pos / div)
                pe[:, 1::2] = torch.cos(pos / div)
                self.register_buffer("pe", pe.float())
                self.pos_drop = nn.Dropout(0.1)
                layer = nn.TransformerEncoderLayer(128, 4, dim_feedforward=256, dropout=0.1, batch_first=True)
                self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
                self.drop = nn.Dropout(0.1)
                self.fc = nn.Linear(128, classes)

            def forward(self, tokens, mask):
                x = self.pos_drop(self.embedding(tokens) + self.pe[: tokens.shape[1]])
                h = self.encoder(x, src_key_padding_mask=mask == 0)
                pooled = (h * mask.unsqueeze(2)).sum(dim=1) / mask.sum(dim=1, keepdim=True)
                return self.fc(self.drop(pooled))

        return Net()


def read_batches(path):
    """The batches file of TextTrainBenchmark.WriteBatches: (vocabulary, classes, [(tokens, mask, labels)])."""
    import torch
    with open(path, "rb") as f:
        raw = f.read()
    magic, count, vocab, classes = struct.unpack("<4siii", raw[:16])
    if magic != b"DSLB":
        raise SystemExit(f"{path}: not a batches file")
    offset, batches = 16, []
    for _ in range(count):
        rows, length = struct.unpack("<ii", raw[offset:offset + 8])
        offset += 8
        cells = rows * length

        def take(n, dtype, size):
            nonlocal offset
            t = torch.frombuffer(bytearray(raw[offset:offset + n * size]), dtype=dtype)
            offset += n * size
            return t

        tokens = take(cells, torch.int64, 8).reshape(rows, length)
        mask = take(cells, torch.float32, 4).reshape(rows, length)
        labels = take(rows, torch.int64, 8)
        batches.append((tokens, mask, labels))
    return vocab, classes, batches


TEXT_NETS = ("kim-cnn", "bilstm-attention", "transformer-classifier")


def build_text(name, nn, vocab, classes):
    if name == "kim-cnn":
        return KimCnn.create(nn, vocab, classes)
    if name == "transformer-classifier":
        return TransformerClassifier.create(nn, vocab, classes)
    return BiLstmAttention.create(nn, vocab, classes)


def build(name, nn):
    if name == "mnist-net":
        return MnistNet.create(nn)
    if name == "two-conv":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.4),
            nn.Linear(1024, 10), nn.LogSoftmax(dim=1))
    if name == "resnet20":
        return resnet20(nn)
    if name == "densenet":
        return densenet(nn)
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(784, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 100), nn.ReLU(),
        nn.Linear(100, 10), nn.LogSoftmax(dim=1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data")
    ap.add_argument("--batches-file")
    ap.add_argument("--loss", choices=["nll", "cross_entropy"], default="nll")
    ap.add_argument("--net", choices=["mlp", "mnist-net", "two-conv", "resnet20", "densenet", *TEXT_NETS], default="mlp")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError as e:
        print(json.dumps({"error": f"PyTorch is not installed ({e})"}))
        sys.exit(3)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.net in TEXT_NETS:
        return text_main(args, torch, nn, F)
    dims, pixels = read_idx(find(args.data, "train-images-idx3-ubyte"))
    _, labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    n = dims[0]
    x = torch.frombuffer(bytearray(pixels), dtype=torch.uint8).reshape(n, 1, 28, 28).float().div_(255).sub_(MEAN).div_(STD)
    y = torch.frombuffer(bytearray(labels), dtype=torch.uint8).long()

    model = build(args.net, nn)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    model.train()

    def batches():
        epoch = 0
        while True:
            order = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed * 1000 + epoch))
            for start in range(0, n - args.batch_size + 1, args.batch_size):  # whole batches only, as the C# side
                idx = order[start:start + args.batch_size]
                yield x[idx], y[idx]
            epoch += 1

    stream = batches()

    def step():
        xb, yb = next(stream)
        loss = F.nll_loss(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return xb.shape[0], loss.item()

    for _ in range(args.warmup):
        step()
    samples = 0
    start = time.perf_counter()
    for _ in range(args.batches):
        samples += step()[0]
    seconds = time.perf_counter() - start

    model.eval()
    eval_batches = [x[i:i + args.batch_size] for i in range(0, min(n, args.batches * args.batch_size), args.batch_size)]
    with torch.no_grad():
        for xb in eval_batches[:args.warmup]:
            model(xb)
        eval_start = time.perf_counter()
        for xb in eval_batches:
            model(xb).argmax(dim=1)
        eval_seconds = time.perf_counter() - eval_start
    eval_samples = sum(xb.shape[0] for xb in eval_batches)

    print(json.dumps({
        "samples_per_second": samples / seconds,
        "eval_samples_per_second": eval_samples / eval_seconds,
        "seconds": seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


def text_main(args, torch, nn, F):
    vocab, classes, batches = read_batches(args.batches_file)
    model = build_text(args.net, nn, vocab, classes)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = F.nll_loss if args.loss == "nll" else F.cross_entropy

    def cycle():
        while True:
            for b in batches:
                yield b

    stream = cycle()

    def step():
        tokens, mask, labels = next(stream)
        loss = loss_fn(model(tokens, mask), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()
        return tokens.shape[0]

    model.train()
    for _ in range(args.warmup):
        step()
    samples = 0
    start = time.perf_counter()
    for _ in range(args.batches):
        samples += step()
    seconds = time.perf_counter() - start

    model.eval()
    stream = cycle()
    with torch.no_grad():
        for _ in range(args.warmup):
            tokens, mask, _ = next(stream)
            model(tokens, mask)
        eval_samples = 0
        eval_start = time.perf_counter()
        for _ in range(args.batches):
            tokens, mask, _ = next(stream)
            model(tokens, mask).argmax(dim=1)
            eval_samples += tokens.shape[0]
        eval_seconds = time.perf_counter() - eval_start

    print(json.dumps({
        "samples_per_second": samples / seconds,
        "eval_samples_per_second": eval_samples / eval_seconds,
        "seconds": seconds,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
