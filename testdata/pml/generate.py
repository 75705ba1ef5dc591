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
from pytorch_metric_learning import distances, losses, miners, reducers, regularizers
from pytorch_metric_learning.utils import loss_and_miner_utils as lmu

assert pytorch_metric_learning.__version__ == "2.8.1", pytorch_metric_learning.__version__
torch.set_default_dtype(torch.float64)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses")
MODULES = (losses, distances, reducers, regularizers, miners)
# PML's learnable tensor of each weighted loss, by attribute name.
WEIGHTS = {
    "ArcFaceLoss": "W", "CosFaceLoss": "W", "NormalizedSoftmaxLoss": "W",
    "LargeMarginSoftmaxLoss": "W", "SphereFaceLoss": "W", "SubCenterArcFaceLoss": "W",
    "ProxyAnchorLoss": "proxies", "ProxyNCALoss": "proxies", "SoftTripleLoss": "fc",
    "P2SGradLoss": "weight",
}


def weight_path(case):
    """The attribute path of the case's learnable tensor, or None: WEIGHTS
    by loss, "loss.beta" for CrossBatchMemory around a MarginLoss with
    learn_beta (a vector, stored as a 1 x k matrix: its shape says [k])."""
    (lname, params), = case["loss"].items()
    if lname == "CrossBatchMemory":
        (inner, iparams), = params["loss"].items()
        return "loss.beta" if inner == "MarginLoss" and (iparams or {}).get("learn_beta") else None
    return WEIGHTS.get(lname)


def attribute(obj, path):
    """obj.a.b for the path "a.b"."""
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj

# Every case: the loss as {Type: params} (nested components as {Type:
# params} too), the batch size n, the embedding size d, the classes, a seed
# (unique: it names the file) and what the case exercises; optionally a miner
# {Type: params} and its distance (miner_distance), as in testdata/golden's
# loss+miner cases: the loss is computed on exactly the mined indices; or
# tuples ("pairs" or "triplets"): the loss gets a fixed indices_tuple drawn
# from the batch (tuples_for), stored as expected.miner_indices with miner null.
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
    dict(loss={"SphereFaceLoss": {"num_classes": 5, "embedding_size": 8, "weight_regularizer": {"CenterInvariantRegularizer": {}}, "weight_reg_weight": 0.3}},
         n=20, d=8, classes=5, seed=9, notes="CenterInvariantRegularizer on SphereFaceLoss's W.t(), times 0.3"),
    dict(loss={"LargeMarginSoftmaxLoss": {"num_classes": 4, "embedding_size": 8, "embedding_regularizer": {"LpRegularizer": {"p": 1}}, "embedding_reg_weight": 0.05}},
         n=16, d=8, classes=4, seed=10, notes="LpRegularizer p 1 on the embeddings of LargeMarginSoftmaxLoss, times 0.05"),
    dict(loss={"AngularLoss": {}}, n=24, d=8, classes=6, seed=20,
         notes="defaults: alpha 40 degrees, LpDistance (required: p 2, power 1, normalize_embeddings), MeanReducer over the positive pairs; only anchor and positive are normalised, the batch embeddings in (a+p).x_j are raw"),
    dict(loss={"AngularLoss": {"alpha": 30}}, n=16, d=12, classes=4, seed=21, notes="alpha 30 degrees"),
    dict(loss={"AngularLoss": {"alpha": 45, "reducer": {"SumReducer": {}}}}, n=20, d=8, classes=5, seed=22, notes="alpha 45, SumReducer over the positive pairs"),
    dict(loss={"AngularLoss": {}}, n=16, d=8, classes=4, seed=23, tuples="pairs",
         notes="fixed indices_tuple (pairs, in miner_indices): the loss runs over its positive pairs, repeats kept, but each anchor's negatives are every batch element of another label, not the given negative pairs"),
    dict(loss={"NPairsLoss": {}}, n=24, d=8, classes=6, seed=24,
         notes="defaults: DotProductSimilarity (normalised), MeanReducer; per label the first positive pair of all pairs in row-major order, labels ascending"),
    dict(loss={"NPairsLoss": {"distance": {"LpDistance": {}}}}, n=16, d=12, classes=4, seed=25, notes="LpDistance: the logits are the negated distances"),
    dict(loss={"NPairsLoss": {"distance": {"DotProductSimilarity": {"normalize_embeddings": False}}, "reducer": {"SumReducer": {}}}}, n=20, d=8, classes=5, seed=26,
         notes="raw dot products, SumReducer over the per-label elements"),
    dict(loss={"NPairsLoss": {}}, n=24, d=8, classes=6, seed=27, tuples="triplets",
         notes="fixed indices_tuple (triplets, in miner_indices, shuffled): per anchor label, the (anchor, positive) of the first triplet of that label in the given order"),
    dict(loss={"NPairsLoss": {}}, n=16, d=8, classes=4, seed=28, tuples="pairs",
         notes="fixed indices_tuple (pairs, in miner_indices, shuffled): per anchor label, the first positive pair of that label in the given order"),
    dict(loss={"IntraPairVarianceLoss": {}}, n=24, d=8, classes=6, seed=29,
         notes="defaults: pos_eps, neg_eps 0.01, CosineSimilarity, MeanReducer on pos_loss and neg_loss, summed; the means are part of the gradient"),
    dict(loss={"IntraPairVarianceLoss": {"pos_eps": 0.05, "neg_eps": 0.2}}, n=16, d=12, classes=4, seed=30, notes="pos_eps 0.05, neg_eps 0.2"),
    dict(loss={"IntraPairVarianceLoss": {"distance": {"LpDistance": {}}}}, n=20, d=8, classes=5, seed=31,
         notes="LpDistance: the sides swap, pos_loss relu(d - 1.01 mean)^2, neg_loss relu(0.99 mean - d)^2"),
    dict(loss={"IntraPairVarianceLoss": {"reducer": {"AvgNonZeroReducer": {}}}}, n=24, d=8, classes=6, seed=32,
         notes="AvgNonZeroReducer: the mean of the nonzero pos_loss and of the nonzero neg_loss, summed"),
    dict(loss={"IntraPairVarianceLoss": {}}, n=16, d=8, classes=4, seed=33, tuples="triplets",
         notes="fixed indices_tuple (triplets, in miner_indices): pairs (a, p) and (a, n), repeats kept in the means"),
    dict(loss={"LargeMarginSoftmaxLoss": {"num_classes": 6, "embedding_size": 8}},
         n=24, d=8, classes=6, seed=40, notes="defaults: margin 4 (even), scale 1; the target logit (-1)^k cos(4 theta) - 2k by the multiple-angle expansion, logits times |x| |w_c|"),
    dict(loss={"LargeMarginSoftmaxLoss": {"num_classes": 6, "embedding_size": 8, "margin": 3, "scale": 2}},
         n=24, d=8, classes=6, seed=41, notes="odd margin 3, scale 2"),
    dict(loss={"LargeMarginSoftmaxLoss": {"num_classes": 8, "embedding_size": 8, "margin": 6}},
         n=24, d=8, classes=6, seed=42, notes="margin 6, num_classes 8 above the 6 classes of the batch (two columns of W only in the softmax denominators)"),
    dict(loss={"LargeMarginSoftmaxLoss": {"num_classes": 5, "embedding_size": 8, "margin": 1, "distance": {"CosineSimilarity": {"p": 3}}, "reducer": {"SumReducer": {}}}},
         n=20, d=8, classes=5, seed=43, notes="margin 1 (no margin), CosineSimilarity with p 3: normalised and scaled by 3-norms (distance.get_norm), SumReducer"),
    dict(loss={"SphereFaceLoss": {"num_classes": 6, "embedding_size": 8}},
         n=24, d=8, classes=6, seed=44, notes="defaults: margin 4, scale 1; logits times the L2 norm of the embedding only"),
    dict(loss={"SphereFaceLoss": {"num_classes": 6, "embedding_size": 8, "margin": 3, "scale": 2}},
         n=24, d=8, classes=6, seed=45, notes="odd margin 3, scale 2"),
    dict(loss={"SphereFaceLoss": {"num_classes": 5, "embedding_size": 8, "margin": 2, "distance": {"CosineSimilarity": {"p": 3}}}},
         n=20, d=8, classes=5, seed=46, notes="even margin 2, CosineSimilarity p 3 (the norm that scales the logits stays L2, torch.norm)"),
    dict(loss={"SubCenterArcFaceLoss": {"num_classes": 6, "embedding_size": 8}},
         n=24, d=8, classes=6, seed=47, notes="defaults: sub_centers 3 (W 8 x 18, column c*3+j sub-centre j of class c), margin 28.6 degrees, scale 64"),
    dict(loss={"SubCenterArcFaceLoss": {"num_classes": 6, "embedding_size": 8, "sub_centers": 2, "margin": 20, "scale": 16}},
         n=24, d=8, classes=6, seed=48, notes="sub_centers 2, margin 20 degrees, scale 16"),
    dict(loss={"SubCenterArcFaceLoss": {"num_classes": 7, "embedding_size": 8, "sub_centers": 4, "margin": 100, "scale": 8}},
         n=20, d=8, classes=5, seed=49, notes="sub_centers 4, num_classes 7 above the batch's 5 classes, margin 100 degrees (the targets beyond pi - m = 80 degrees take cos(theta) - m sin(m)), scale 8"),
    dict(loss={"RankedListLoss": {"margin": 0.4, "Tn": 10}},
         n=16, d=8, classes=4, seed=60, notes="margin and Tn (required), defaults otherwise: imbalance 0.5, alpha 1 + margin/2, Tp 0 (unweighted positives), LpDistance, MeanReducer over rows"),
    dict(loss={"RankedListLoss": {"margin": 0.6, "Tn": 3, "Tp": 2, "imbalance": 0.3, "alpha": 1.1}},
         n=16, d=8, classes=4, seed=61, notes="Tp 2 (weighted positives), Tn 3, imbalance 0.3, alpha 1.1 given"),
    dict(loss={"RankedListLoss": {"margin": 0.5, "Tn": 4, "distance": {"LpDistance": {"normalize_embeddings": False}}}},
         n=12, d=4, classes=3, seed=62, notes="unnormalised LpDistance: most negatives lie beyond alpha (a few within), every positive beyond alpha - margin"),
    dict(loss={"PNPLoss": {}},
         n=16, d=8, classes=4, seed=63, notes="defaults: variant O (the soft count of negatives ranked above each positive, averaged), b 2, alpha 1, anneal 0.01, CosineSimilarity"),
    dict(loss={"PNPLoss": {"variant": "Ds", "anneal": 0.1}},
         n=16, d=8, classes=4, seed=64, notes="variant Ds: log(1 + R), anneal 0.1"),
    dict(loss={"PNPLoss": {"variant": "Dq", "alpha": 2}},
         n=16, d=8, classes=4, seed=65, notes="variant Dq: 1 - mean (1 + R)^-alpha, alpha 2"),
    dict(loss={"PNPLoss": {"variant": "Iu", "anneal": 0.05}},
         n=16, d=8, classes=4, seed=66, notes="variant Iu: (1 + R) log(1 + R), anneal 0.05"),
    dict(loss={"PNPLoss": {"variant": "Ib", "b": 3}},
         n=16, d=8, classes=4, seed=67, notes="variant Ib: (b R - log(1 + b R)) / b^2, b 3"),
    dict(loss={"PNPLoss": {"variant": "O", "anneal": 0.2}},
         n=10, d=6, classes=4, seed=68, notes="variant O, anneal 0.2, a batch with a class of two (few positives per row)"),
    dict(loss={"HistogramLoss": {}},
         n=16, d=8, classes=4, seed=69, notes="defaults: n_bins 100 (delta 0.02), the distinct positive and negative pairs of all triplets, CosineSimilarity"),
    dict(loss={"HistogramLoss": {"n_bins": 10}},
         n=16, d=8, classes=4, seed=70, notes="n_bins 10 (delta 0.2)"),
    dict(loss={"HistogramLoss": {"delta": 0.25}},
         n=16, d=8, classes=4, seed=71, notes="delta 0.25 (n_bins 8)"),
    dict(loss={"HistogramLoss": {"delta": 0.3}},
         n=16, d=8, classes=4, seed=72, notes="delta 0.3, which does not divide 2: round(1 + 2/0.3) = 8 nodes, the last beyond 1"),
    dict(loss={"HistogramLoss": {"n_bins": 25, "delta": 0.08, "distance": {"DotProductSimilarity": {}}}},
         n=12, d=4, classes=3, seed=73, notes="n_bins 25 and delta 0.08 both given (they agree), DotProductSimilarity of normalised embeddings"),
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
    dict(loss={"ContrastiveLoss": {}}, miner={"HDCMiner": {}},
         n=24, d=8, classes=6, seed=100, notes="HDCMiner defaults (filter_percentage 0.5, LpDistance): of all positive pairs the ceil(0.5 * count) farthest, of all negative pairs as many of the closest, each by torch.topk (hardest first). d(i,j) = d(j,i), so topk's order between the two is open: compare the order with each pair unordered. The batch is drawn so that no cut falls between two equal (or near) distances"),
    dict(loss={"ContrastiveLoss": {}}, miner={"HDCMiner": {"filter_percentage": 0.3}}, miner_distance={"CosineSimilarity": {}},
         n=24, d=8, classes=4, seed=101, notes="HDCMiner filter_percentage 0.3 with CosineSimilarity (inverted): the ceil(0.3 * count) least similar positive pairs and most similar negative pairs; the loss keeps its LpDistance"),
    dict(loss={"InstanceLoss": {}},
         n=16, d=8, classes=4, seed=102, notes="InstanceLoss defaults (gamma 64, CosineSimilarity, MeanReducer): per row F.cross_entropy of 64 * cos(e_i, e_j) over every j (itself included), its target the column torch.unique(labels, return_inverse=True) gives: the rank of its label among the batch's labels, a sample rather than a class"),
    dict(loss={"InstanceLoss": {"gamma": 16}},
         n=24, d=12, classes=6, seed=103, notes="InstanceLoss gamma 16, more classes: targets 0 to 5 are the first six rows of the batch"),
    dict(loss={"CrossBatchMemory": {"loss": {"ContrastiveLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=120, before=2, notes="CrossBatchMemory around ContrastiveLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"ContrastiveLoss": {}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=121, before=1, notes="CrossBatchMemory around ContrastiveLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"ContrastiveLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=122, before=3, notes="CrossBatchMemory around ContrastiveLoss with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"MultiSimilarityLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=123, before=2, notes="CrossBatchMemory around MultiSimilarityLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"MultiSimilarityLoss": {}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=124, before=1, notes="CrossBatchMemory around MultiSimilarityLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"MultiSimilarityLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {}}}},
         n=16, d=8, classes=4, seed=125, before=3, notes="CrossBatchMemory around MultiSimilarityLoss with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"TripletMarginLoss": {"margin": 0.2}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=126, before=2, notes="CrossBatchMemory around TripletMarginLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"TripletMarginLoss": {"margin": 0.2}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=127, before=1, notes="CrossBatchMemory around TripletMarginLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"TripletMarginLoss": {"margin": 0.2}}, "embedding_size": 8, "memory_size": 40, "miner": {"TripletMarginMiner": {"margin": 0.3}}}},
         n=16, d=8, classes=4, seed=128, before=3, notes="CrossBatchMemory around TripletMarginLoss with its own miner (TripletMarginMiner triplets (self triplets removed) of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"NTXentLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=129, before=2, notes="CrossBatchMemory around NTXentLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"NTXentLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=130, before=1, notes="CrossBatchMemory around NTXentLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"NTXentLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {"epsilon": 0.3}}}},
         n=16, d=8, classes=4, seed=131, before=3, notes="CrossBatchMemory around NTXentLoss with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"SupConLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=132, before=2, notes="CrossBatchMemory around SupConLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"SupConLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=133, before=1, notes="CrossBatchMemory around SupConLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"SupConLoss": {"temperature": 0.5}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=134, before=3, notes="CrossBatchMemory around SupConLoss with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"CircleLoss": {"m": 0.4, "gamma": 20}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=140, before=2, notes="CrossBatchMemory around CircleLoss (m 0.4, gamma 20), memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"CircleLoss": {"m": 0.4, "gamma": 20}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=141, before=1, notes="CrossBatchMemory around CircleLoss (m 0.4, gamma 20), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"CircleLoss": {"m": 0.4, "gamma": 20}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {}}}},
         n=16, d=8, classes=4, seed=142, before=3, notes="CrossBatchMemory around CircleLoss (m 0.4, gamma 20) with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"SignalToNoiseRatioContrastiveLoss": {"pos_margin": 0.2, "neg_margin": 0.8}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=143, before=2, notes="CrossBatchMemory around SignalToNoiseRatioContrastiveLoss (pos_margin 0.2, neg_margin 0.8; SNRDistance is not symmetric: var(anchor - memory) / var(anchor)), memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"SignalToNoiseRatioContrastiveLoss": {"pos_margin": 0.2, "neg_margin": 0.8}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=144, before=1, notes="CrossBatchMemory around SignalToNoiseRatioContrastiveLoss (pos_margin 0.2, neg_margin 0.8; SNRDistance is not symmetric: var(anchor - memory) / var(anchor)), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"SignalToNoiseRatioContrastiveLoss": {"pos_margin": 0.2, "neg_margin": 0.8}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=145, before=3, notes="CrossBatchMemory around SignalToNoiseRatioContrastiveLoss (pos_margin 0.2, neg_margin 0.8; SNRDistance is not symmetric: var(anchor - memory) / var(anchor)) with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"TupletMarginLoss": {"scale": 16}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=146, before=2, notes="CrossBatchMemory around TupletMarginLoss (scale 16), memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"TupletMarginLoss": {"scale": 16}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=147, before=1, notes="CrossBatchMemory around TupletMarginLoss (scale 16), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"TupletMarginLoss": {"scale": 16}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {}}}},
         n=16, d=8, classes=4, seed=148, before=3, notes="CrossBatchMemory around TupletMarginLoss (scale 16) with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"IntraPairVarianceLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=149, before=2, notes="CrossBatchMemory around IntraPairVarianceLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"IntraPairVarianceLoss": {}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=150, before=1, notes="CrossBatchMemory around IntraPairVarianceLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"IntraPairVarianceLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=151, before=3, notes="CrossBatchMemory around IntraPairVarianceLoss with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"LiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=152, before=2, notes="CrossBatchMemory around LiftedStructureLoss (PML's negatives of a positive pair (a, p) are the negative pairs whose anchor is a or whose batch index equals p's memory index), memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"LiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=153, before=1, notes="CrossBatchMemory around LiftedStructureLoss (PML's negatives of a positive pair (a, p) are the negative pairs whose anchor is a or whose batch index equals p's memory index), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"LiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=154, before=3, notes="CrossBatchMemory around LiftedStructureLoss (PML's negatives of a positive pair (a, p) are the negative pairs whose anchor is a or whose batch index equals p's memory index) with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"GeneralizedLiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=155, before=2, notes="CrossBatchMemory around GeneralizedLiftedStructureLoss, memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; all pairs of the batch with the memory, without each element's own slot"),
    dict(loss={"CrossBatchMemory": {"loss": {"GeneralizedLiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=156, before=1, notes="CrossBatchMemory around GeneralizedLiftedStructureLoss, memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"GeneralizedLiftedStructureLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {}}}},
         n=16, d=8, classes=4, seed=157, before=3, notes="CrossBatchMemory around GeneralizedLiftedStructureLoss with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"MarginLoss": {"learn_beta": True, "nu": 0.1}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=158, before=2, notes="CrossBatchMemory around MarginLoss (learn_beta, nu 0.1: the gradient of its beta reached through the wrapper), memory_size 40 after 2 batches of 16: the queue wraps inside this batch (slots 32-39 then 0-7) and is full; the triplets of all pairs of the batch with the memory, without each element's own slot (convert_to_triplets of the pairs)"),
    dict(loss={"CrossBatchMemory": {"loss": {"MarginLoss": {"learn_beta": True, "num_classes": 4, "nu": 0.1}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=159, before=1, notes="CrossBatchMemory around MarginLoss (learn_beta, a beta per class of the anchor, nu 0.1), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"MarginLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"TripletMarginMiner": {"margin": 0.3}}}},
         n=16, d=8, classes=4, seed=160, before=3, notes="CrossBatchMemory around MarginLoss with its own miner (TripletMarginMiner triplets (self triplets removed) of the batch against the memory, no gradient), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"NCALoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=161, before=2, notes="CrossBatchMemory around NCALoss, memory_size 40 after 2 batches of 16 (wrapped, full): the softmax of each row over the whole memory, each element's own slot included (PML masks the diagonal only when the reference is the batch), the rows weighted by their count as anchors of the pairs without self comparisons over the largest count"),
    dict(loss={"CrossBatchMemory": {"loss": {"NCALoss": {"softmax_scale": 2}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=162, before=1, notes="CrossBatchMemory around NCALoss (softmax_scale 2), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"NCALoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"MultiSimilarityMiner": {}}}},
         n=16, d=8, classes=4, seed=163, before=3, notes="CrossBatchMemory around NCALoss with its own miner (MultiSimilarityMiner pairs of the batch against the memory, no gradient: they weigh the rows by their anchors' counts), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
    dict(loss={"CrossBatchMemory": {"loss": {"AngularLoss": {}}, "embedding_size": 8, "memory_size": 40}},
         n=16, d=8, classes=4, seed=164, before=2, notes="CrossBatchMemory around AngularLoss, memory_size 40 after 2 batches of 16 (wrapped, full): per positive pair (anchor, memory slot) without the own slot, the negatives every memory slot of another label (raw)"),
    dict(loss={"CrossBatchMemory": {"loss": {"AngularLoss": {"alpha": 30}}, "embedding_size": 8, "memory_size": 64}},
         n=16, d=8, classes=4, seed=165, before=1, notes="CrossBatchMemory around AngularLoss (alpha 30), memory_size 64 after 1 batch of 16: not yet full, the references are the 32 filled slots"),
    dict(loss={"CrossBatchMemory": {"loss": {"AngularLoss": {}}, "embedding_size": 8, "memory_size": 40, "miner": {"PairMarginMiner": {"pos_margin": 0.5, "neg_margin": 1.2}}}},
         n=16, d=8, classes=4, seed=166, before=3, notes="CrossBatchMemory around AngularLoss with its own miner (pair-margin-mined pairs of the batch against the memory, no gradient: only their positive pairs count, the negatives are every memory slot of another label), memory_size 40 after 3 batches of 16 (wrapped, full); expected.miner_indices is null: the mined tuples are internal"),
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


def build_miner(case):
    """The case's miner, with its distance when the case names one."""
    (name, params), = case["miner"].items()
    spec = {name: dict(params or {})}
    if case.get("miner_distance"):
        spec[name]["distance"] = case["miner_distance"]
    return build(spec)


def mined_indices(indices):
    """PML's miner output as testdata/golden stores it."""
    keys = ("anchor", "positive", "negative") if len(indices) == 3 else ("a1", "p", "a2", "n")
    return {k: [int(i) for i in v] for k, v in zip(keys, indices)}


def compute(case, emb, labels, weight, tuples=None, before=()):
    """The loss, its gradients and the indices it was computed on: for a
    loss+miner case the mined ones (PML mines without gradient), else the
    fixed tuples given, if any."""
    loss = build(case["loss"])
    name = weight_path(case)
    if name:
        attribute(loss, name).data = torch.tensor(weight)
    with torch.no_grad():
        for b in before:
            loss(torch.tensor(b["embeddings"]), torch.tensor(b["labels"]))
    e = torch.tensor(emb, requires_grad=True)
    indices = tuples
    if case.get("miner"):
        mined = build_miner(case)(e, torch.tensor(labels))
        value = loss(e, torch.tensor(labels), mined)
        indices = mined_indices(mined)
    elif tuples is not None:
        keys = ["a1", "p", "a2", "n"] if "a1" in tuples else ["anchor", "positive", "negative"]
        value = loss(e, torch.tensor(labels), tuple(torch.tensor(tuples[k], dtype=torch.long) for k in keys))
    else:
        value = loss(e, torch.tensor(labels))
    value.backward()
    wgrad = attribute(loss, name).grad.numpy() if name else None
    return value.item(), e.grad.numpy(), wgrad, indices


def hdc_cuts_clear(case, emb, labels):
    """HDCMiner's cut between kept and dropped pairs lies between two clearly
    different values: d(i,j) = d(j,i) up to rounding, so a cut through such a
    pair keeps either one by the last bit of each."""
    miner = build_miner(case)
    e, y = torch.tensor(emb), torch.tensor(labels)
    mat = miner.distance(e)
    a1, p, a2, n = lmu.get_all_pairs_indices(y)
    for kind, a, b in (("pos", a1, p), ("neg", a2, n)):
        values = np.sort(mat[a, b].numpy())
        k = int(math.ceil(miner.filter_percentage * len(values)))
        if len(values) == 0 or k in (0, len(values)):
            continue
        if miner.should_select_largest(kind):
            values = values[::-1]
        if abs(values[k - 1] - values[k]) <= 1e-6 * abs(values[k]):
            return False
    return True


# Checks beyond the perturbation test, by miner.
MINER_CHECKS = {"HDCMiner": hdc_cuts_clear}


def labels_for(rng, n, classes):
    """Every class at least twice, the rest at random, shuffled."""
    labels = list(range(classes)) * 2
    labels += list(rng.integers(0, classes, n - len(labels)))
    return [int(v) for v in rng.permutation(labels)]


def tuples_for(rng, kind, labels):
    """A miner's output, fixed: a random part of the batch's pairs (half the
    positive, a quarter of the negative pairs) or of its triplets (40), in a
    random order, as miner_indices; the loss gets them as indices_tuple."""
    t = torch.tensor(labels)
    if kind == "pairs":
        a1, p, a2, n = (x.numpy() for x in lmu.get_all_pairs_indices(t))
        pos = rng.permutation(len(a1))[: len(a1) // 2]
        neg = rng.permutation(len(a2))[: len(a2) // 4]
        return {"a1": a1[pos].tolist(), "p": p[pos].tolist(), "a2": a2[neg].tolist(), "n": n[neg].tolist()}
    a, p, n = (x.numpy() for x in lmu.get_all_triplets_indices(t))
    keep = rng.permutation(len(a))[:40]
    return {"anchor": a[keep].tolist(), "positive": p[keep].tolist(), "negative": n[keep].tolist()}


def tuple_sets(idx):
    """Mined indices as sets of tuples: triplets, or positive and negative pairs."""
    groups = [("anchor", "positive", "negative")] if "anchor" in idx else [("a1", "p"), ("a2", "n")]
    return [set(zip(*(idx[k] for k in keys))) for keys in groups]


def stable(case, emb, labels, weight, want, tuples=None, before=()):
    """No input near a relu kink, threshold or arg-max tie: a 1e-9 relative
    perturbation moves the value and gradient by less than 1e-6 relative,
    and leaves a miner's mined set as it was."""
    rng = np.random.default_rng(0)
    value, grad, _, indices = compute(case, emb * (1 + 1e-9 * rng.standard_normal(emb.shape)), labels, weight, tuples, before)
    close = lambda a, b: np.all(np.abs(a - b) <= 1e-6 * np.abs(b) + 1e-9)
    if case.get("miner"):
        (mname, _), = case["miner"].items()
        # The mined set must not move either.
        if tuple_sets(indices) != tuple_sets(want[3]):
            return False
        if mname in MINER_CHECKS and not MINER_CHECKS[mname](case, emb, labels):
            return False
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
            if weight_path(case):
                torch.manual_seed(case["seed"])
                w = attribute(build(case["loss"]), weight_path(case)).detach().numpy()
                weight, wshape = rounded(w, 6), list(w.shape)
            tuples = tuples_for(rng, case["tuples"], labels) if "tuples" in case else None
            try:
                want = compute(case, emb, labels, weight, tuples, before)
            except (IndexError, RuntimeError):  # DynamicSoftMarginLoss: an x beyond its histogram
                continue
            if all(math.isfinite(v) for v in [want[0], *want[1].ravel()]) and stable(case, emb, labels, weight, want, tuples, before):
                break
        else:
            raise RuntimeError(f"case {case['seed']}: no stable draw")
        value, grad, wgrad, indices = want
        out = {
            "loss": case["loss"], "distance": None, "reducer": None,
            "miner": case.get("miner"), "miner_distance": case.get("miner_distance"),
            "labels": labels, "embeddings": emb.tolist(),
            "weights": {"name": weight_path(case).split(".")[-1], "shape": wshape, "value": np.atleast_2d(weight).tolist()} if weight is not None else None,
            "expected": {"value": value, "grad": grad.tolist(),
                         "weights_grad": np.atleast_2d(wgrad).tolist() if wgrad is not None else None, "miner_indices": indices},
            "tolerance": {"rel": 1e-6, "abs": 1e-9},
            "notes": case["notes"] + f". PML {pytorch_metric_learning.__version__}, PyTorch {torch.__version__}, float64.",
        }
        if before:
            out["before"] = before
        mname = "_" + next(iter(case["miner"])) if case.get("miner") else ""
        path = os.path.join(OUT, f"{case['seed']:03d}_{lname}{mname}.json")
        with open(path, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print(path, value)


if __name__ == "__main__":
    main()
