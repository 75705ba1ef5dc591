#!/usr/bin/env python3
"""Writes the small real torch.save files that internal/torchload's tests read.

Run with Debian's python3-torch (1.13): /usr/bin/python3 testdata/torch/make_fixtures.py
It rewrites the .pth files and expected.json next to itself; CI only reads them.
"""
import collections
import json
import os
import pickle

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def values(n, k):
    # Exactly representable in float16 and bfloat16: multiples of 1/8 up to 16.
    return [((i * 7 + k) % 33 - 16) / 8 for i in range(n)]


def state_dict():
    conv = torch.tensor(values(2 * 3 * 2 * 2, 1), dtype=torch.float32).reshape(2, 3, 2, 2)
    base = torch.tensor(values(12, 2), dtype=torch.float32).reshape(3, 4)
    sd = collections.OrderedDict()
    sd["conv.weight"] = conv
    sd["bn.running_var"] = torch.tensor(values(2, 3), dtype=torch.float32).abs() + 1
    sd["bn.num_batches_tracked"] = torch.tensor(7, dtype=torch.int64)
    sd["transposed"] = base.t()  # non-contiguous: strides (1, 4)
    sd["sliced"] = base[1:, ::2]  # offset 4, strides (4, 2)
    sd["double"] = torch.tensor(values(5, 4), dtype=torch.float64)
    return sd


def half_dict():
    sd = collections.OrderedDict()
    sd["half"] = torch.tensor(values(6, 5), dtype=torch.float16).reshape(2, 3)
    sd["bf16"] = torch.tensor(values(6, 6), dtype=torch.bfloat16).reshape(3, 2)
    sd["half_t"] = sd["half"].t()
    return sd


class Evil:
    def __reduce__(self):
        return (os.system, ("echo torchload-must-refuse-this",))


def describe(sd):
    out = {}
    for name, t in sd.items():
        out[name] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "values": [float(v) for v in t.double().flatten().tolist()],
        }
    return out


def main():
    expected = {}
    for fname, sd, zipped in [
        ("zip_f32.pth", state_dict(), True),
        ("legacy_f32.pth", state_dict(), False),
        ("zip_half.pth", half_dict(), True),
        ("legacy_half.pth", half_dict(), False),
    ]:
        torch.save(sd, os.path.join(HERE, fname), _use_new_zipfile_serialization=zipped)
        expected[fname] = describe(sd)
    # A checkpoint that nests the state dict, as training scripts save it.
    nested = {"epoch": 3, "state_dict": half_dict()}
    torch.save(nested, os.path.join(HERE, "nested.pth"))
    expected["nested.pth"] = {"state_dict." + k: v for k, v in describe(half_dict()).items()}

    # Malicious files: loading them with pickle would run a shell command.
    torch.save({"x": Evil()}, os.path.join(HERE, "evil_zip.pth"))
    torch.save({"x": Evil()}, os.path.join(HERE, "evil_legacy.pth"), _use_new_zipfile_serialization=False)
    with open(os.path.join(HERE, "evil_plain.pkl"), "wb") as f:
        pickle.dump(Evil(), f, protocol=2)

    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
