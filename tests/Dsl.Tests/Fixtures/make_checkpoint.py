"""Writes safetensors checkpoints of TinyMlp and BnNet from PyTorch, and what PyTorch computes with them.

Regenerate with:  /usr/bin/python3 tests/Dsl.Tests/Fixtures/make_checkpoint.py
(PyTorch 1.13 from Debian; the safetensors package is not needed: the format is written by hand below.)

Outputs, beside this script:
  tiny_mlp.safetensors        fc1.weight [5,6], fc1.bias [5], fc2.weight [4,5], fc2.bias [4], fc3.weight [3,4], fc3.bias [3]
  tiny_mlp_checkpoint.json    {"input": {"shape", "data"}, "log_probs": {"shape", "data"}}
  bn_net.safetensors          BnNet's state_dict as PyTorch saves it after 3 training steps: conv1.*, bn1.weight,
                              bn1.bias, bn1.running_mean, bn1.running_var, bn1.num_batches_tracked (I64, shape []), fc1.*
  bn_net_checkpoint.json      {"input", "log_probs" (eval mode), "num_batches_tracked"}
"""
import json
import os
import struct

import torch

torch.manual_seed(7)
here = os.path.dirname(os.path.abspath(__file__))

net = torch.nn.Sequential()
net.add_module("fc1", torch.nn.Linear(6, 5))
net.add_module("tanh", torch.nn.Tanh())
net.add_module("fc2", torch.nn.Linear(5, 4))
net.add_module("relu", torch.nn.ReLU())
net.add_module("fc3", torch.nn.Linear(4, 3))
net.add_module("out", torch.nn.LogSoftmax(dim=1))



def save_safetensors(state, path):
    """The safetensors layout: header length, JSON header, then each tensor's little-endian bytes in order."""
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    blobs = []
    for name, tensor in state.items():
        tensor = tensor.detach().contiguous()
        if tensor.dtype == torch.int64:
            dtype, raw = "I64", tensor.numpy().astype("<i8").tobytes()
        else:
            dtype, raw = "F32", tensor.to(torch.float32).numpy().astype("<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (len(text) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode("utf-8"))
        for raw in blobs:
            f.write(raw)


save_safetensors(net.state_dict(), os.path.join(here, "tiny_mlp.safetensors"))

x = torch.randn(4, 6)
with torch.no_grad():
    y = net(x)
with open(os.path.join(here, "tiny_mlp_checkpoint.json"), "w") as f:
    json.dump({
        "input": {"shape": list(x.shape), "data": [float(v) for v in x.flatten()]},
        "log_probs": {"shape": list(y.shape), "data": [float(v) for v in y.flatten()]},
    }, f, indent=1)

# BnNet (tests/Dsl.Tests/Networks/BnNet.cs): Conv2d(4, kernel: 3) | BatchNorm2d | Relu | Flatten | Linear(3) | LogSoftmax
# on [N,3,6,6], trained 3 steps so the running statistics and num_batches_tracked are not their initial values.
torch.manual_seed(11)
bn = torch.nn.Sequential()
bn.add_module("conv1", torch.nn.Conv2d(3, 4, kernel_size=3))
bn.add_module("bn1", torch.nn.BatchNorm2d(4))
bn.add_module("relu", torch.nn.ReLU())
bn.add_module("flatten", torch.nn.Flatten())
bn.add_module("fc1", torch.nn.Linear(64, 3))
bn.add_module("out", torch.nn.LogSoftmax(dim=1))
opt = torch.optim.SGD(bn.parameters(), lr=0.1)
for _ in range(3):
    xb = torch.randn(5, 3, 6, 6)
    yb = torch.randint(0, 3, (5,))
    opt.zero_grad()
    torch.nn.functional.nll_loss(bn(xb), yb).backward()
    opt.step()
save_safetensors(bn.state_dict(), os.path.join(here, "bn_net.safetensors"))
bn.eval()
x = torch.randn(2, 3, 6, 6)
with torch.no_grad():
    y = bn(x)
with open(os.path.join(here, "bn_net_checkpoint.json"), "w") as f:
    json.dump({
        "input": {"shape": list(x.shape), "data": [float(v) for v in x.flatten()]},
        "log_probs": {"shape": list(y.shape), "data": [float(v) for v in y.flatten()]},
        "num_batches_tracked": int(bn.bn1.num_batches_tracked),
    }, f, indent=1)
