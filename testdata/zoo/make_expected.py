#!/usr/bin/env python3
"""Reference outputs of the model zoo's architectures, for internal/nn's tests.

Run with Debian's python3-torch and python3-torchvision:
    /usr/bin/python3 testdata/zoo/make_expected.py [names...]
Weights are not stored: every tensor of the state dict is filled by a
formula (fill below) that the Go test computes too. For each model this
writes, next to itself:
  <name>_keys.json   the state dict's names and shapes (the head included)
  <name>_eval.npy    eval-mode trunk output of the fixed input (batch x features)
  <name>_train.npy   train-mode trunk output of the same input
  <name>_grad.npy    train mode: d(sum(output * r))/d(first conv weight), out x (in*k*k)
in float64, the model run in float64.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))


def fill(name, shape):
    """The deterministic weights: sin(0.37 i + 0.001 i^2 + phase(name)), scaled
    by kind. (The chirp keeps weight matrices far from low rank: a plain
    sin(0.37 i) makes every row a mix of the same two vectors.)"""
    n = int(np.prod(shape)) if len(shape) else 1
    phase = (sum(name.encode()) % 97) * 0.1
    i = np.arange(n, dtype=np.float64)
    v = np.sin(0.37 * i + 0.001 * (i * i) + phase)
    if name.endswith("running_var"):
        v = 0.75 + 0.25 * v
    elif name.endswith("running_mean"):
        v = 0.1 * v
    elif len(shape) == 1 and name.endswith("weight"):
        v = 1 + 0.1 * v
    elif len(shape) == 1:
        v = 0.1 * v
    else:
        v = v * 2 / math.sqrt(n / shape[0])
    return torch.from_numpy(v.reshape(shape))


def inputs(batch, size):
    n = batch * 3 * size * size
    x = np.sin(0.013 * np.arange(n, dtype=np.float64) + 0.5)
    return torch.from_numpy(x.reshape(batch, 3, size, size))


def upstream(n):
    return torch.from_numpy(np.cos(0.1 * np.arange(n, dtype=np.float64)))


class BNInception(nn.Module):
    """BN-Inception with pretrainedmodels' layout and names (its ReLUs are in
    place, so every branch output is conv -> BatchNorm -> ReLU)."""

    blocks = [
        ("inception_3a", 64, 64, 64, 64, 96, 96, "avg", 32),
        ("inception_3b", 64, 64, 96, 64, 96, 96, "avg", 64),
        ("inception_3c", 0, 128, 160, 64, 96, 96, "", 0),
        ("inception_4a", 224, 64, 96, 96, 128, 128, "avg", 128),
        ("inception_4b", 192, 96, 128, 96, 128, 128, "avg", 128),
        ("inception_4c", 160, 128, 160, 128, 160, 160, "avg", 128),
        ("inception_4d", 96, 128, 192, 160, 192, 192, "avg", 128),
        ("inception_4e", 0, 128, 192, 192, 256, 256, "", 0),
        ("inception_5a", 352, 192, 320, 160, 224, 224, "avg", 128),
        ("inception_5b", 352, 192, 320, 192, 224, 224, "max", 128),
    ]

    def __init__(self):
        super().__init__()
        self.plan = []
        self.unit("conv1_7x7_s2", 3, 64, 7, 2)
        self.pool1_3x3_s2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.unit("conv2_3x3_reduce", 64, 64, 1, 1)
        self.unit("conv2_3x3", 64, 192, 3, 1)
        self.pool2_3x3_s2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        c = 192
        for name, b1, r3, b3, rd, d1, d2, pool, proj in self.blocks:
            s = 2 if pool == "" else 1
            if b1:
                self.unit(name + "_1x1", c, b1, 1, 1)
            self.unit(name + "_3x3_reduce", c, r3, 1, 1)
            self.unit(name + "_3x3", r3, b3, 3, s)
            self.unit(name + "_double_3x3_reduce", c, rd, 1, 1)
            self.unit(name + "_double_3x3_1", rd, d1, 3, 1)
            self.unit(name + "_double_3x3_2", d1, d2, 3, s)
            if pool == "":
                setattr(self, name + "_pool", nn.MaxPool2d(3, stride=2, ceil_mode=True))
                c = b3 + d2 + c
            else:
                p = nn.AvgPool2d(3, stride=1, padding=1, ceil_mode=True, count_include_pad=True) if pool == "avg" \
                    else nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True)
                setattr(self, name + "_pool", p)
                self.unit(name + "_pool_proj", c, proj, 1, 1)
                c = b1 + b3 + d2 + proj
        self.global_pool = nn.AvgPool2d(7, stride=1, padding=0, ceil_mode=True, count_include_pad=True)
        self.last_linear = nn.Identity()  # the head powerful_benchmarker removes

    def unit(self, name, cin, cout, k, s):
        setattr(self, name, nn.Conv2d(cin, cout, k, stride=s, padding=k // 2))
        setattr(self, name + "_bn", nn.BatchNorm2d(cout, eps=1e-5, momentum=0.9))

    def run(self, name, x):
        return torch.relu(getattr(self, name + "_bn")(getattr(self, name)(x)))

    def forward(self, x):
        x = self.pool1_3x3_s2(self.run("conv1_7x7_s2", x))
        x = self.run("conv2_3x3", self.run("conv2_3x3_reduce", x))
        x = self.pool2_3x3_s2(x)
        for name, b1, *_, pool, _proj in self.blocks:
            out = []
            if b1:
                out.append(self.run(name + "_1x1", x))
            out.append(self.run(name + "_3x3", self.run(name + "_3x3_reduce", x)))
            d = self.run(name + "_double_3x3_reduce", x)
            out.append(self.run(name + "_double_3x3_2", self.run(name + "_double_3x3_1", d)))
            p = getattr(self, name + "_pool")(x)
            out.append(p if pool == "" else self.run(name + "_pool_proj", p))
            x = torch.cat(out, 1)
        return self.last_linear(self.global_pool(x).flatten(1))


def bninception():
    # pretrainedmodels pools the 7x7 map of a 224-231 px input with a fixed
    # 7x7 average; the global average is the same there and lets the test run
    # at 96x96 (3x3 maps), a fifth of the memory and time.
    m = BNInception()
    m.global_pool = nn.AdaptiveAvgPool2d(1)
    return m, None


def torchvision_trunk(name, **kwargs):
    m = getattr(torchvision.models, name)(**kwargs)
    return m, "fc"


def googlenet():
    # The published checkpoint has the auxiliary heads (aux1, aux2); the
    # trunk runs without them, and without transform_input, which bench
    # folds into the input normalisation.
    m, head = torchvision_trunk("googlenet", aux_logits=False, transform_input=False, init_weights=False)
    keys, _ = torchvision_trunk("googlenet", aux_logits=True, init_weights=False)
    m.dropout = nn.Identity()  # bench's googlenet has no dropout on its output in training
    return m, head, keys


def inception_v3():
    # As torchvision builds the pretrained model (transform_input on), the
    # auxiliary classifier (in the checkpoint's keys) removed as
    # powerful_benchmarker does, and no dropout, like googlenet.
    m, head = torchvision_trunk("inception_v3", aux_logits=False, transform_input=True, init_weights=False)
    keys, _ = torchvision_trunk("inception_v3", aux_logits=True, init_weights=False)
    m.dropout = nn.Identity()
    return m, head, keys


# name: (constructor, input size, first conv)
MODELS = {
    "resnet18": (lambda: torchvision_trunk("resnet18"), 64, "conv1"),
    "resnet34": (lambda: torchvision_trunk("resnet34"), 64, "conv1"),
    "resnet50": (lambda: torchvision_trunk("resnet50"), 64, "conv1"),
    "resnet101": (lambda: torchvision_trunk("resnet101"), 64, "conv1"),
    "bninception": (bninception, 96, "conv1_7x7_s2"),
    "googlenet": (googlenet, 64, "conv1.conv"),
    # 107 is the smallest input that leaves Mixed_7's 1x3 and 3x1
    # convolutions a 2x2 map (at 75, their padding would be all they see).
    "inception_v3": (inception_v3, 107, "Conv2d_1a_3x3.conv"),
}


def main(names):
    torch.set_num_threads(2)
    for name in names or MODELS:
        make, size, first = MODELS[name]
        model, head, *full = make()
        keys = [[k, list(v.shape)] for k, v in (full[0] if full else model).state_dict().items()]
        with open(os.path.join(HERE, name + "_keys.json"), "w") as f:
            json.dump(keys, f)
            f.write("\n")
        if head:
            setattr(model, head, nn.Identity())
        model = model.double()
        sd = {k: (fill(k, list(v.shape)) if v.is_floating_point() else v) for k, v in model.state_dict().items()}
        model.load_state_dict(sd)
        x = inputs(2, size)
        model.eval()
        with torch.no_grad():
            ev = model(x)
        model.train()
        tr = model(x)
        (tr * upstream(tr.numel()).reshape(tr.shape)).sum().backward()
        grad = model.get_submodule(first).weight.grad
        np.save(os.path.join(HERE, name + "_eval.npy"), ev.numpy())
        np.save(os.path.join(HERE, name + "_train.npy"), tr.detach().numpy())
        np.save(os.path.join(HERE, name + "_grad.npy"), grad.reshape(grad.shape[0], -1).numpy())
        print(name, tuple(ev.shape), float(ev.abs().mean()), float(grad.abs().mean()))


if __name__ == "__main__":
    main(sys.argv[1:])
