#!/usr/bin/env python3
"""Runs the protocol of `make run` on the built-in Omniglot
(`--config_dataset default omniglot --config_transforms default omniglot`) in
plain PyTorch, so that a whole bench experiment can be compared with PyTorch
doing the same work: the same data, splits, model, loss, optimiser, batches
and evaluations, not the same random numbers.

The protocol, from configs/config_*/default.yaml and omniglot.yaml:
- data: every PNG of datasets/omniglot/images_*.zip (class
  <alphabet>/<character>, a file in two archives once), decoded once as 8-bit grayscale and kept in memory;
  classes in sorted order, the second half is the test set, the first half is
  cut into 4 partitions, fold k validating on partition k;
- transforms: train Resize 28, RandomResizedCrop 28 (scale 0.8-1), to tensor;
  eval Resize 28, to tensor (grayscale: no Normalize), applied at every visit;
- model: ConvNet [32, 64, 128] (conv 3x3 without bias, BatchNorm, ReLU, max
  pool 2, then global average pooling), embedder Linear 128 -> 64;
- batches of 32 of 8 random classes with 4 images each (MPerClassSampler m 4),
  --iters per epoch (50), ContrastiveLoss with PML's defaults, Adam (lr 1e-3,
  weight decay 1e-4) on trunk and embedder;
- evaluation (GlobalEmbeddingSpaceTester): embeddings in batches of 128 in
  eval mode, normalised, compared to themselves: k nearest neighbours with k
  the largest class size, MAP@R, mean average precision, mean reciprocal
  rank, precision@1, R-precision, recall@1,2,4,8, and k-means (k-means++,
  Lloyd's to convergence, at most 300 iterations) for NMI and AMI; before
  training (trunk alone, then with the untrained embedder), after every epoch
  on the validation set, and the best epoch's model on the test set.

Prints each epoch's wall and CPU seconds (training plus its validation), each
fold's totals, and the process's peak resident memory. Runs with Debian's
python3-torch and python3-torchvision; nothing else (no scikit-learn).
`benchmarks/run_vs_torch.sh` (make run-vs-torch) alternates it with bench.
"""

import argparse
import copy
import io
import math
import os
import random
import resource
import sys
import time
import zipfile

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision import transforms as T

# the reference model and PML's default loss, as `make bench-vs-torch` times them
from torch_reference import contrastive_loss, reference_model

SIZE = 28
BATCH, M = 32, 4
EVAL_BATCH = 128
PARTITIONS = 4


def load_omniglot(root):
    """(images, labels): grayscale PIL images sorted by (class, name)."""
    items, seen = [], set()
    for name in sorted(os.listdir(root)):
        if not (name.startswith("images_") and name.endswith(".zip")):
            continue
        with zipfile.ZipFile(os.path.join(root, name)) as z:
            for entry in z.namelist():
                parts = entry.split("/")
                # an alphabet in two archives: the same file is one image
                if len(parts) == 4 and parts[3].endswith(".png") and tuple(parts[1:]) not in seen:
                    seen.add(tuple(parts[1:]))
                    img = Image.open(io.BytesIO(z.read(entry))).convert("L")
                    items.append((parts[1] + "/" + parts[2], parts[3], img))
    items.sort(key=lambda it: (it[0], it[1]))
    classes = sorted({c for c, _, _ in items})
    index = {c: i for i, c in enumerate(classes)}
    return [img for _, _, img in items], np.array([index[c] for c, _, _ in items])


def splits(labels, fold):
    """Item indices of (train, val, test) of a fold: class-disjoint."""
    classes = np.unique(labels)
    half = len(classes) // 2
    test = classes[half:]
    val = np.array_split(classes[:half], PARTITIONS)[fold]
    train = np.setdiff1d(classes[:half], val)
    return [np.flatnonzero(np.isin(labels, c)) for c in (train, val, test)]


def m_per_class_batch(by_class, rng):
    """One batch of BATCH // M classes with M images each (with replacement
    when a class has fewer)."""
    batch = []
    for c in rng.sample(sorted(by_class), BATCH // M):
        items = by_class[c]
        batch += rng.sample(items, M) if len(items) >= M else rng.choices(items, k=M)
    return batch


def embed(model, images, idx, trunk_only=False):
    model.eval()
    eval_tf = T.Compose([T.Resize(SIZE), T.ToTensor()])
    out = []
    with torch.no_grad():
        for s in range(0, len(idx), EVAL_BATCH):
            x = torch.stack([eval_tf(images[i]) for i in idx[s:s + EVAL_BATCH]])
            out.append((model[:-1] if trunk_only else model)(x))
    return nn.functional.normalize(torch.cat(out), dim=1)


def kmeans(x, k, rng):
    """k-means++ then Lloyd's iterations until no assignment changes."""
    n = len(x)
    centres = [x[rng.randrange(n)]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        c = torch.multinomial(d2 / d2.sum(), 1).item() if d2.sum() > 0 else rng.randrange(n)
        centres.append(x[c])
        d2 = torch.minimum(d2, ((x - x[c]) ** 2).sum(1))
    centres = torch.stack(centres)
    assign = None
    for _ in range(300):
        new = torch.cdist(x, centres).argmin(1)
        if assign is not None and torch.equal(new, assign):
            break
        assign = new
        counts = torch.bincount(assign, minlength=k)[:, None]
        sums = torch.zeros_like(centres).index_add_(0, assign, x)
        centres = torch.where(counts > 0, sums / counts.clamp(min=1), centres)
    return assign.numpy()


def nmi_ami(a, b):
    """Normalised and adjusted mutual information (arithmetic mean of the
    entropies), as scikit-learn computes them."""
    _, a = np.unique(a, return_inverse=True)
    _, b = np.unique(b, return_inverse=True)
    n = len(a)
    table = np.zeros((a.max() + 1, b.max() + 1))
    np.add.at(table, (a, b), 1)
    ra, cb = table.sum(1), table.sum(0)
    nz = table > 0
    mi = (table[nz] / n * np.log(n * table[nz] / np.outer(ra, cb)[nz])).sum()
    h = lambda p: -(p / n * np.log(p / n)).sum()
    mean_h = (h(ra) + h(cb)) / 2
    # expected mutual information under the hypergeometric model
    lf = np.array([math.lgamma(i + 1) for i in range(n + 2)])
    ai, bj = ra[:, None, None].astype(int), cb[None, :, None].astype(int)
    nij = np.arange(1, max(ra.max(), cb.max()) + 1, dtype=int)[None, None, :]
    valid = (nij >= np.maximum(1, ai + bj - n)) & (nij <= np.minimum(ai, bj))
    nij_c = np.where(valid, nij, 1)
    log_p = (lf[ai] + lf[bj] + lf[n - ai] + lf[n - bj] - lf[n] - lf[nij_c]
             - lf[np.clip(ai - nij_c, 0, n)] - lf[np.clip(bj - nij_c, 0, n)]
             - lf[np.clip(n - ai - bj + nij_c, 0, n)])
    emi = np.where(valid, nij_c / n * np.log(n * nij_c / (ai * bj)) * np.exp(log_p), 0).sum()
    nmi = mi / mean_h if mean_h > 0 else 1.0
    ami = (mi - emi) / (mean_h - emi) if mean_h != emi else 1.0
    return nmi, ami


def accuracies(emb, labels, seed):
    """The metrics of PML's AccuracyCalculator, compared to self."""
    labels_t = torch.from_numpy(labels)
    k = int(np.bincount(labels).max())
    sim = emb @ emb.T
    sim.fill_diagonal_(-float("inf"))
    knn = sim.topk(k, dim=1).indices
    rel = (labels_t[knn] == labels_t[:, None]).float()
    r = (labels_t[None, :] == labels_t[:, None]).sum(1).float() - 1
    ranks = torch.arange(1, k + 1).float()
    prec = rel.cumsum(1) / ranks
    within_r = ranks[None, :] <= r[:, None]
    found = rel.sum(1)
    first = torch.where(found > 0, 1 / (rel.argmax(1).float() + 1), torch.zeros(len(rel)))
    m = {
        "mean_average_precision_at_r": ((prec * rel * within_r).sum(1) / r).mean().item(),
        "mean_average_precision": ((prec * rel).sum(1) / found.clamp(min=1)).mean().item(),
        "mean_reciprocal_rank": first.mean().item(),
        "precision_at_1": rel[:, 0].mean().item(),
        "r_precision": ((rel * within_r).sum(1) / r).mean().item(),
    }
    for kk in (1, 2, 4, 8):
        m[f"recall_at_{kk}"] = (rel[:, :kk].sum(1) > 0).float().mean().item()
    clusters = kmeans(emb, len(np.unique(labels)), random.Random(seed))
    m["NMI"], m["AMI"] = nmi_ami(labels, clusters)
    return m


def fmt(m):
    return ", ".join(f"{k} {v:.4f}" for k, v in m.items())


def run_fold(fold, images, labels, a):
    train, val, test = splits(labels, fold)
    torch.manual_seed(a.seed + fold)
    rng = random.Random(a.seed + fold)
    model = reference_model(1)  # the trunk, then the embedder Linear 128 -> 64
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, weight_decay=1e-4)
    train_tf = T.Compose([T.Resize(SIZE), T.RandomResizedCrop(SIZE, scale=(0.8, 1.0)), T.ToTensor()])
    by_class = {}
    for i in train:
        by_class.setdefault(labels[i], []).append(i)
    for trunk_only in (True, False):
        m = accuracies(embed(model, images, val, trunk_only), labels[val], a.seed)
        print(f"fold {fold} untrained{' trunk' if trunk_only else ''}: val {fmt(m)}", flush=True)
    best, best_state = -1.0, None
    fold_wall, fold_cpu = time.perf_counter(), time.process_time()
    for epoch in range(1, a.epochs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        model.train()
        for _ in range(a.iters):
            batch = m_per_class_batch(by_class, rng)
            x = torch.stack([train_tf(images[i]) for i in batch])
            y = torch.from_numpy(labels[batch])
            opt.zero_grad(set_to_none=True)
            loss = contrastive_loss(model(x), y)
            loss.backward()
            opt.step()
        m = accuracies(embed(model, images, val), labels[val], a.seed)
        if m["mean_average_precision_at_r"] > best:
            best, best_state = m["mean_average_precision_at_r"], copy.deepcopy(model.state_dict())
        print(f"fold {fold} epoch {epoch}: loss {loss.item():.4f}, wall s {time.perf_counter() - wall:.2f}, "
              f"CPU s {time.process_time() - cpu:.2f}, val {fmt(m)}", flush=True)
    model.load_state_dict(best_state)
    m = accuracies(embed(model, images, test), labels[test], a.seed)
    print(f"fold {fold} test: {fmt(m)}", flush=True)
    print(f"fold {fold} epochs: wall s {time.perf_counter() - fold_wall:.2f}, CPU s {time.process_time() - fold_cpu:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--dataset", default=os.path.join(here, "..", "datasets", "omniglot"))
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--iters", type=int, default=50, help="iterations per epoch")
    p.add_argument("--folds", type=int, default=PARTITIONS, help="the first N folds")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    start, start_cpu = time.perf_counter(), time.process_time()
    images, labels = load_omniglot(a.dataset)
    print(f"torch run: {len(images)} images, {labels.max() + 1} classes, {a.folds} fold(s) of {a.epochs} epochs "
          f"of {a.iters} iterations, threads {a.threads} (PyTorch {torch.__version__})", flush=True)
    for fold in range(a.folds):
        run_fold(fold, images, labels, a)
    print(f"total: wall s {time.perf_counter() - start:.2f}, CPU s {time.process_time() - start_cpu:.2f}")
    print(f"peak memory MiB: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")


if __name__ == "__main__":
    sys.exit(main())
