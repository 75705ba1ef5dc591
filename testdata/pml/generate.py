#!/usr/bin/python3
"""Reference vectors for the PML components bench added after testdata/golden:
each case is computed by pytorch-metric-learning 2.8.1 itself, in float64, and
written in the schema of testdata/golden/losses (testdata/golden/README.md).

Run once, from the repository root, with Debian's python3-torch and a
checkout of PML 2.8.1 (pure Python; it needs no pip):

    git clone --branch v2.8.1 https://github.com/KevinMusgrave/pytorch-metric-learning /tmp/pml
    PYTHONPATH=/tmp/pml/src /usr/bin/python3 testdata/pml/generate.py [seed ...]

(with seeds, only those cases).

A case with `before` (a stateful loss) first calls the same loss on that many
other batches of the same size, drawn before the stored one, and stores them
under "before" (a list of {labels, embeddings}): the expected value and
gradients are those of the last call. The earlier calls run without gradient,
so the state they leave (DynamicSoftMarginLoss's histogram) is a constant of
the last call; PML 2.8.1 keeps it attached to the earlier batches' graph, and
a second backward fails.

The tests read the JSON files only; neither Python nor PML is needed to run them.
"""
import json
import math
import os
import sys

import numpy as np
import torch
import pytorch_metric_learning
from pytorch_metric_learning import distances, losses, reducers, regularizers

assert pytorch_metric_learning.__version__ == "2.8.1", pytorch_metric_learning.__version__
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses")
MODULES = (losses, distances, reducers, regularizers)
# PML's learnable tensor of each weighted loss, by attribute name.
WEIGHTS = {
    "ArcFaceLoss": "W", "CosFaceLoss": "W", "NormalizedSoftmaxLoss": "W",
    "LargeMarginSoftmaxLoss": "W", "SphereFaceLoss": "W", "SubCenterArcFaceLoss": "W",
    "ProxyAnchorLoss": "proxies", "ProxyNCALoss": "proxies", "SoftTripleLoss": "fc",
    "P2SGradLoss": "weight",
}

# Every case: the loss as {Type: params} (nested components as {Type:
# params} too), the batch size n, the embedding size d, the classes, a seed
# (unique: it names the file) and what the case exercises.
CASES = [
    dict(loss={"ContrastiveLoss": {"embedding_regularizer": {"LpRegularizer": {}}}},
         n=24, d=8, classes=6, seed=1, notes="embedding_regularizer LpRegularizer (p 2, power 1, MeanReducer), embedding_reg_weight 1: the mean L2 norm of the raw embeddings is added to the loss"),
    dict(loss={"TripletMarginLoss": {"embedding_regularizer": {"LpRegularizer": {"p": 1, "power": 2}}, "embedding_reg_weight": 0.3}},
         n=16, d=8, classes=4, seed=2, notes="LpRegularizer p 1, power 2, embedding_reg_weight 0.3, with the loss's AvgNonZeroReducer passing the already-reduced regularisation through"),
    dict(loss={"MultiSimilarityLoss": {"embedding_regularizer": {"ZeroMeanRegularizer": {"reducer": {"SumReducer": {}}}}, "embedding_reg_weight": 0.05}},
         n=24, d=12, classes=6, seed=3, notes="ZeroMeanRegularizer |sum of each embedding's coordinates| with its own SumReducer, weight 0.05"),
    dict(loss={"ArcFaceLoss": {"num_classes": 6, "embedding_size": 8, "weight_regularizer": {"RegularFaceRegularizer": {}}, "weight_reg_weight": 2}},
         n=24, d=8, classes=6, seed=4, notes="weight_regularizer RegularFaceRegularizer on W.t() (a row per class): each class's cosine to its nearest other class, mean, times 2"),
    dict(loss={"NormalizedSoftmaxLoss": {"num_classes": 5, "embedding_size": 8, "weight_regularizer": {"CenterInvariantRegularizer": {}}, "weight_reg_weight": 0.1}},
         n=20, d=8, classes=5, seed=5, notes="CenterInvariantRegularizer on W.t(): (|w_c|^2 - mean |w|^2)^2 / 4, mean, times 0.1"),
    dict(loss={"ProxyAnchorLoss": {"num_classes": 5, "embedding_size": 8, "weight_regularizer": {"LpRegularizer": {"power": 2}}, "weight_reg_weight": 0.01,
                                    "embedding_regularizer": {"LpRegularizer": {}}, "embedding_reg_weight": 0.1}},
         n=20, d=8, classes=5, seed=6, notes="both regularizers: LpRegularizer power 2 on the proxies and LpRegularizer on the embeddings, through the loss's DivisorReducer"),
    dict(loss={"SoftTripleLoss": {"num_classes": 4, "embedding_size": 8, "centers_per_class": 3,
                                   "weight_regularizer": {"SparseCentersRegularizer": {"num_classes": 4, "centers_per_class": 3}}, "weight_reg_weight": 0.2}},
         n=16, d=8, classes=4, seed=7, notes="SparseCentersRegularizer on fc.t(): sqrt(2 - 2 cos) over each class's pairs of centres, DivisorReducer by twice their count, times 0.2"),
    dict(loss={"ProxyNCALoss": {"num_classes": 5, "embedding_size": 8, "weight_regularizer": {"ZeroMeanRegularizer": {}}, "weight_reg_weight": 0.5}},
         n=20, d=8, classes=5, seed=8, notes="ZeroMeanRegularizer on the proxies, times 0.5"),
    dict(loss={"ThresholdConsistentMarginLoss": {}},
         n=24, d=8, classes=6, seed=80, notes="defaults: mean of 0.9 - s over the positive pairs with s <= 0.9 plus mean of s - 0.5 over the negative pairs with s >= 0.5, s the cosine of the raw embeddings, already reduced"),
    dict(loss={"ThresholdConsistentMarginLoss": {"lambda_plus": 0.5, "lambda_minus": 2.0, "margin_plus": 0.6, "margin_minus": 0.1}},
         n=32, d=12, classes=8, seed=81, notes="non-default lambda_plus 0.5, lambda_minus 2, margin_plus 0.6, margin_minus 0.1"),
    dict(loss={"DynamicSoftMarginLoss": {}},
         n=24, d=8, classes=6, seed=82, notes="defaults, a fresh loss: mean over all triplets of CDF(x) x, x = d_ap - d_an, CDF of the histogram of this batch's x alone (10 bins from -2, width 0.4); the gradient flows through the histogram's fractional bin weights, as in PML"),
    dict(loss={"DynamicSoftMarginLoss": {"min_val": -2.5, "num_bins": 7, "momentum": 0.3}},
         n=16, d=12, classes=4, seed=83, notes="non-default min_val -2.5, num_bins 7 (width 5/7), momentum 0.3 (no effect on a fresh loss's first batch)"),
    dict(loss={"DynamicSoftMarginLoss": {"momentum": 0.3}},
         n=16, d=8, classes=4, seed=84, before=1, notes="momentum 0.3, second call: the histogram is 0.7 times the first batch's plus 0.3 times this one's, renormalised"),
    dict(loss={"P2SGradLoss": {"descriptors_dim": 8, "num_classes": 6}},
         n=24, d=8, classes=6, seed=85, notes="num_classes = classes in the batch: mean over n x C of (cos(x_i, w_c) - [c = y_i])^2, weight (D x C) renormalised in place first (columns / (norm + 1e-7)), its gradient that of the renormalised weight"),
    dict(loss={"P2SGradLoss": {"descriptors_dim": 12, "num_classes": 10}},
         n=32, d=12, classes=8, seed=86, notes="num_classes 10 exceeds the 8 classes present in the batch"),
]


def build(spec):
    """Builds {Type: params}, and the components nested in params."""
    (name, params), = spec.items()
    kwargs = {}
    for k, v in (params or {}).items():
        if isinstance(v, dict) and len(v) == 1 and any(hasattr(m, next(iter(v))) for m in MODULES):
            v = build(v)
        kwargs[k] = v
    for m in MODULES:
        if hasattr(m, name):
            return getattr(m, name)(**kwargs)
    raise KeyError(name)


def rounded(x, digits):
    """x rounded to digits significant digits, so that the stored values are exact."""
    return np.array([float(f"{v:.{digits}g}") for v in x.ravel()]).reshape(x.shape)


def compute(case, emb, labels, weight, before=()):
    loss = build(case["loss"])
    name = WEIGHTS.get(next(iter(case["loss"])))
    if name:
        getattr(loss, name).data = torch.tensor(weight)
    with torch.no_grad():
        for b in before:
            loss(torch.tensor(b["embeddings"]), torch.tensor(b["labels"]))
    e = torch.tensor(emb, requires_grad=True)
    value = loss(e, torch.tensor(labels))
    value.backward()
    wgrad = getattr(loss, name).grad.numpy() if name else None
    return value.item(), e.grad.numpy(), wgrad


def labels_for(rng, n, classes):
    """Every class at least twice, the rest at random, shuffled."""
    labels = list(range(classes)) * 2
    labels += list(rng.integers(0, classes, n - len(labels)))
    return [int(v) for v in rng.permutation(labels)]


def stable(case, emb, labels, weight, want, before=()):
    """No input near a relu kink, threshold or arg-max tie: a 1e-9 relative
    perturbation moves the value and gradient by less than 1e-6 relative."""
    rng = np.random.default_rng(0)
    value, grad, _ = compute(case, emb * (1 + 1e-9 * rng.standard_normal(emb.shape)), labels, weight, before)
    close = lambda a, b: np.all(np.abs(a - b) <= 1e-6 * np.abs(b) + 1e-9)
    return close(value, want[0]) and close(grad, want[1])


def main():
    os.makedirs(OUT, exist_ok=True)
    only = {int(a) for a in sys.argv[1:]}
    for case in CASES:
        if only and case["seed"] not in only:
            continue
        (lname, params), = case["loss"].items()
        for attempt in range(100):
            rng = np.random.default_rng(1000 * case["seed"] + attempt)
            before = []
            for _ in range(case.get("before", 0)):
                b_labels = labels_for(rng, case["n"], case["classes"])
                before.append({"labels": b_labels, "embeddings": rounded(rng.standard_normal((case["n"], case["d"])), 4).tolist()})
            labels = labels_for(rng, case["n"], case["classes"])
            emb = rounded(rng.standard_normal((case["n"], case["d"])), 4)
            weight, wshape = None, None
            if lname in WEIGHTS:
                torch.manual_seed(case["seed"])
                w = getattr(build(case["loss"]), WEIGHTS[lname]).detach().numpy()
                weight, wshape = rounded(w, 6), list(w.shape)
            try:
                want = compute(case, emb, labels, weight, before)
            except (IndexError, RuntimeError):  # DynamicSoftMarginLoss: an x beyond its histogram
                continue
            if all(math.isfinite(v) for v in [want[0], *want[1].ravel()]) and stable(case, emb, labels, weight, want, before):
                break
        else:
            raise RuntimeError(f"case {case['seed']}: no stable draw")
        value, grad, wgrad = want
        out = {
            "loss": case["loss"], "distance": None, "reducer": None, "miner": None, "miner_distance": None,
            "labels": labels, "embeddings": emb.tolist(),
            "weights": {"name": WEIGHTS[lname], "shape": wshape, "value": weight.tolist()} if weight is not None else None,
            "expected": {"value": value, "grad": grad.tolist(),
                         "weights_grad": wgrad.tolist() if wgrad is not None else None, "miner_indices": None},
            "tolerance": {"rel": 1e-6, "abs": 1e-9},
            "notes": case["notes"] + f". PML {pytorch_metric_learning.__version__}, PyTorch {torch.__version__}, float64.",
        }
        if before:
            out["before"] = before
        path = os.path.join(OUT, f"{case['seed']:03d}_{lname}.json")
        with open(path, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(path, value)


if __name__ == "__main__":
    main()
