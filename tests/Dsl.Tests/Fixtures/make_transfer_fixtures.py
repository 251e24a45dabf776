"""Writes a PyTorch ResNet-style state_dict (torchvision's BasicBlock names, BatchNorm with int64 num_batches_tracked)
as safetensors, and what PyTorch computes with it, for the transfer-learning tests.

Regenerate with:  /usr/bin/python3 tests/Dsl.Tests/Fixtures/make_transfer_fixtures.py
(PyTorch 1.13; the safetensors package is not needed: the format is written by hand below.)

Outputs, beside this script:
  resnet_bn.safetensors        the state_dict after 3 training steps (SGD), under torchvision's names: conv1, bn1,
                               layer1.0.{conv1,bn1,conv2,bn2}, layer2.0.{conv1,bn1,conv2,bn2,downsample.0,downsample.1}, fc
  resnet_bn_checkpoint.json    {"input": [2,3,8,8], "output": eval-mode logits [2,4], "train_output": train-mode logits
                               of the same input (batch statistics), "num_batches_tracked": 3}
"""
import json
import os
import struct

import torch
from torch import nn

torch.manual_seed(11)
here = os.path.dirname(os.path.abspath(__file__))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(y + shortcut)


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(6)
        self.layer1 = nn.Sequential(BasicBlock(6, 6, 1))
        self.layer2 = nn.Sequential(BasicBlock(6, 8, 2))
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(x.mean(dim=(2, 3)))


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


def rounded(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


net = SmallResNet()
opt = torch.optim.SGD(net.parameters(), lr=0.1)
for step in range(3):
    x = torch.randn(4, 3, 8, 8)
    y = torch.randint(0, 4, (4,))
    loss = nn.functional.cross_entropy(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()

save_safetensors(net.state_dict(), os.path.join(here, "resnet_bn.safetensors"))
tracked = int(net.bn1.num_batches_tracked)  # before the train-mode forward below counts one more batch

x = torch.randn(2, 3, 8, 8)
net.eval()
with torch.no_grad():
    out = net(x)
net.train()
with torch.no_grad():
    train_out = net(x)
with open(os.path.join(here, "resnet_bn_checkpoint.json"), "w") as f:
    json.dump({
        "input": {"shape": list(x.shape), "data": rounded(x)},
        "output": {"shape": list(out.shape), "data": rounded(out)},
        "train_output": {"shape": list(train_out.shape), "data": rounded(train_out)},
        "num_batches_tracked": tracked,
    }, f)
    f.write("\n")


# PairNet: PyTorch's (height, width) tuples and ceil_mode through a generated network.
#   pairs_net.json  {"params": {name: {"shape", "data"}}, "input", "output", "grad_output", "grads": {name: ...}, "input_grad"}
torch.manual_seed(12)
pairs = nn.Sequential()
pairs.add_module("conv1", nn.Conv2d(2, 4, (1, 3), padding=(0, 1)))
pairs.add_module("tanh", nn.Tanh())
pairs.add_module("conv2", nn.Conv2d(4, 5, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)))
pairs.add_module("max", nn.MaxPool2d((3, 2), stride=2, ceil_mode=True))
pairs.add_module("avg", nn.AvgPool2d(3, stride=(2, 3), padding=1, ceil_mode=True))
pairs.add_module("flatten", nn.Flatten())
pairs.add_module("fc1", nn.Linear(20, 3))
x = torch.randn(3, 2, 9, 11, requires_grad=True)
y = pairs(x)
r = torch.randn(y.shape)
(y * r).sum().backward()


def entry(t):
    return {"shape": list(t.shape), "data": rounded(t)}


with open(os.path.join(here, "pairs_net.json"), "w") as f:
    json.dump({
        "params": {name: entry(p) for name, p in pairs.named_parameters()},
        "input": entry(x),
        "output": entry(y),
        "grad_output": entry(r),
        "grads": {name: entry(p.grad) for name, p in pairs.named_parameters()},
        "input_grad": entry(x.grad),
    }, f)
    f.write("\n")
