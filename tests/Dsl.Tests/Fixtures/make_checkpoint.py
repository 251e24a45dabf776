"""Writes a safetensors checkpoint of TinyMlp from PyTorch, and what PyTorch computes with it.

Regenerate with:  /usr/bin/python3 tests/Dsl.Tests/Fixtures/make_checkpoint.py
(PyTorch 1.13 from Debian; the safetensors package is not needed: the format is written by hand below.)

Outputs, beside this script:
  tiny_mlp.safetensors        fc1.weight [5,6], fc1.bias [5], fc2.weight [4,5], fc2.bias [4], fc3.weight [3,4], fc3.bias [3]
  tiny_mlp_checkpoint.json    {"input": {"shape", "data"}, "log_probs": {"shape", "data"}}
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

state = {k: v.detach().to(torch.float32).contiguous() for k, v in net.state_dict().items()}
header = {"__metadata__": {"format": "pt"}}
offset = 0
blobs = []
for name, tensor in state.items():
    raw = tensor.numpy().astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(raw)]}
    offset += len(raw)
    blobs.append(raw)
text = json.dumps(header, separators=(",", ":"))
text += " " * ((8 - (len(text) + 8) % 8) % 8)
with open(os.path.join(here, "tiny_mlp.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)))
    f.write(text.encode("utf-8"))
    for raw in blobs:
        f.write(raw)

x = torch.randn(4, 6)
with torch.no_grad():
    y = net(x)
with open(os.path.join(here, "tiny_mlp_checkpoint.json"), "w") as f:
    json.dump({
        "input": {"shape": list(x.shape), "data": [float(v) for v in x.flatten()]},
        "log_probs": {"shape": list(y.shape), "data": [float(v) for v in y.flatten()]},
    }, f, indent=1)
