#!/usr/bin/env python3
"""Times bench's reference model in PyTorch with the protocol of
`bench benchmark` (internal/perf), or with --model a zoo trunk (torchvision's
resnet50, or the BN-Inception of testdata/zoo/make_expected.py) followed by a
Linear embedder of 64: random images already in memory,
--warmup untimed steps, then --iters timed ones. A training step is forward,
PML's default ContrastiveLoss (LpDistance on normalised embeddings, pos_margin
0, neg_margin 1, AvgNonZeroReducer) on 4 images per class, backward and an
Adam step (lr 1e-3); an embed step is one batch through the model in eval
mode under no_grad. Prints the same "key: value" lines as bench.

Runs with Debian's python3-torch (apt-get install python3-torch); CI never
runs it. `make bench-vs-torch` alternates it with `bench benchmark`.
"""

import argparse
import os
import resource
import sys
import time

import torch
from torch import nn

CHANNELS = (32, 64, 128)
EMBEDDING = 64


def reference_model(in_channels):
    layers, c = [], in_channels
    for out in CHANNELS:
        layers += [nn.Conv2d(c, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                   nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, EMBEDDING)]
    return nn.Sequential(*layers)


def zoo_model(name):
    """A zoo trunk as bench builds it, its classifier head replaced by the
    Linear embedder, and its multiply-adds' convolution part unknown (0)."""
    if name == "resnet50":
        import torchvision
        trunk = torchvision.models.resnet50()
        features = trunk.fc.in_features
        trunk.fc = nn.Identity()
    else:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata", "zoo"))
        from make_expected import BNInception
        trunk = BNInception()
        trunk.global_pool = nn.AdaptiveAvgPool2d(1)
        features = 1024
    return nn.Sequential(trunk, nn.Linear(features, EMBEDDING))


def forward_macs(in_channels, h, w):
    """Multiply-adds of one example's forward pass, convolutions and linear."""
    macs, c = 0, in_channels
    for out in CHANNELS:
        macs += out * c * 9 * h * w
        c, h, w = out, h // 2, w // 2
    return macs + c * EMBEDDING


def contrastive_loss(emb, labels):
    """PML's ContrastiveLoss with its defaults."""
    emb = nn.functional.normalize(emb, dim=1)
    d = torch.cdist(emb, emb)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = torch.relu(d[same & ~eye])
    neg = torch.relu(1 - d[~same])

    def avg_nonzero(x):
        n = (x > 0).sum()
        return x.sum() / n if n > 0 else x.sum() * 0

    return avg_nonzero(pos) + avg_nonzero(neg)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["train", "embed"])
    p.add_argument("--model", choices=["reference", "resnet50", "bninception"], default="reference")
    p.add_argument("--input", default="3x32x32")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--iters", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    a = p.parse_args()
    c, h, w = (int(v) for v in a.input.split("x"))
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    reference = a.model == "reference"
    model = reference_model(c) if reference else zoo_model(a.model)
    x = torch.randn(a.batch, c, h, w)
    labels = torch.arange(a.batch) // 4
    macs = forward_macs(c, h, w) if reference else 0
    if a.mode == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        if reference:
            # forward, weight gradients, input gradients but the first layer's
            macs = 3 * macs - CHANNELS[0] * c * 9 * h * w

        def step():
            opt.zero_grad(set_to_none=True)
            contrastive_loss(model(x), labels).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    for _ in range(a.warmup):
        step()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(a.iters):
        step()
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    images = a.batch * a.iters
    print(f"torch {a.mode} {a.model}: input {a.input}, batch {a.batch}, threads {a.threads}, "
          f"{a.iters} steps after {a.warmup} warm-up (PyTorch {torch.__version__})")
    print(f"images/s: {images / elapsed:.1f}")
    print(f"ms/step: {1000 * elapsed / a.iters:.2f}")
    print(f"CPU ms/step: {1000 * cpu / a.iters:.2f}")
    if macs:
        print(f"GFLOP/s: {2 * macs * images / elapsed / 1e9:.1f}")
    print(f"peak memory MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    sys.exit(main())
