"""How PyTorch 1.13 (one thread, float32) sums F.linear's products, and a fixture of its bits.

    /usr/bin/python3 tools/linear/sums.py --compare   # candidate orders against torch, per shape
    /usr/bin/python3 tools/linear/sums.py             # write tests/fixtures/linear-sums.json

The inputs come from a 32-bit LCG that the test re-creates (lcgValues), so the fixture holds
only the shapes and torch's outputs; every value is a float32 in [-1, 1) with 24 random bits.
"""
import base64
import json
import os
import sys

import numpy as np
import torch

torch.set_num_threads(1)

# (rows n, in features, out features): small, the W7 sizes, around 4096 multiply-adds, large.
SHAPES = [(1, 1, 1), (3, 5, 4), (2, 7, 1), (5, 1, 6), (32, 16, 32), (32, 32, 32), (32, 32, 1),
          (16, 16, 16), (17, 15, 16), (64, 100, 30), (8, 300, 3), (48, 96, 40), (24, 129, 17)]


def lcg_values(seed, count):
    """count float32 values in [-1, 1): state = state * 1664525 + 1013904223 (mod 2^32), top 24 bits."""
    out = np.empty(count, dtype=np.float32)
    state = seed & 0xFFFFFFFF
    for i in range(count):
        state = (state * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = (state >> 8) / 8388608.0 - 1.0
    return out


def case_inputs(index, n, i, o):
    x = lcg_values(1000 + index, n * i).reshape(n, i)
    w = lcg_values(2000 + index, o * i).reshape(o, i)
    b = lcg_values(3000 + index, o)
    g = lcg_values(4000 + index, n * o).reshape(n, o)
    return x, w, b, g


def torch_results(x, w, b, g):
    xt = torch.from_numpy(x).requires_grad_()
    wt = torch.from_numpy(w).requires_grad_()
    bt = torch.from_numpy(b).requires_grad_()
    y = torch.nn.functional.linear(xt, wt, bt)
    y.backward(torch.from_numpy(g))
    return {"y": y.detach().numpy(), "gx": xt.grad.numpy(), "gw": wt.grad.numpy(), "gb": bt.grad.numpy()}


def in_order32(a, b, start=None):
    """(M,K) @ (K,N) summed over k in order in float32, from `start` (broadcast) or 0."""
    acc = np.zeros((a.shape[0], b.shape[1]), np.float32) if start is None else np.broadcast_to(start, (a.shape[0], b.shape[1])).astype(np.float32)
    for k in range(a.shape[1]):
        acc = (acc + np.outer(a[:, k], b[k, :]).astype(np.float32)).astype(np.float32)
    return acc


def in_double(a, b, start=None):
    acc = a.astype(np.float64) @ b.astype(np.float64)
    return (acc if start is None else acc + start.astype(np.float64)).astype(np.float32)


def candidates(x, w, b, g):
    return {
        "f32 from 0, then + bias": {
            "y": (in_order32(x, w.T) + b).astype(np.float32),
            "gx": in_order32(g, w), "gw": in_order32(g.T, x), "gb": in_order32(np.ones((1, g.shape[0]), np.float32), g)[0]},
        "f32 from the bias": {"y": in_order32(x, w.T, b)},
        "f64, rounded once": {
            "y": in_double(x, w.T, b), "gx": in_double(g, w), "gw": in_double(g.T, x), "gb": g.astype(np.float64).sum(0).astype(np.float32)},
    }


def same_bits(a, b):
    return a.shape == b.shape and bool(np.all(a.view(np.uint32) == b.view(np.uint32)))


def compare():
    for index, (n, i, o) in enumerate(SHAPES):
        x, w, b, g = case_inputs(index, n, i, o)
        want = torch_results(x, w, b, g)
        for name, got in candidates(x, w, b, g).items():
            verdict = " ".join(f"{k}:{'=' if same_bits(v, want[k]) else f'{int(np.sum(v.view(np.uint32) != want[k].view(np.uint32)))}/{v.size}'}" for k, v in got.items())
            print(f"{n}x{i}x{o:<4} {name:26} {verdict}")


def encode(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode()


def write_fixture(path):
    cases = []
    for index, (n, i, o) in enumerate(SHAPES):
        got = torch_results(*case_inputs(index, n, i, o))
        cases.append({"index": index, "n": n, "in": i, "outF": o, **{k: encode(v) for k, v in got.items()}})
    doc = {"torch": torch.__version__, "threads": 1, "inputs": "lcg_values(1000/2000/3000/4000 + index) for x, weight, bias, grad", "cases": cases}
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if "--compare" in sys.argv:
        compare()
    else:
        write_fixture(os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "linear-sums.json"))
