"""printing.json: str(tensor), PyTorch's printed form, for toString().

The random inputs come from one generator seeded with 11 and drawn in case order, so a new
case goes at the end (or draws from its own generator) to keep the others' values.
"""

import math

import torch

from tensors import dumps_indented, encode

FILE = "printing.json"
dumps = dumps_indented

SEED = 11


def randn(*shape, scale=1.0):
    return torch.randn(*shape) * scale


def definitions():
    """(id, make_input, requires_grad, steps) in file order; make_input draws from the seeded RNG."""
    t = torch.tensor
    return [
        ("print/scalar", lambda: t(0.8569), False, []),
        ("print/scalar-int-valued", lambda: t(3.0), False, []),
        ("print/vector", lambda: randn(4), False, []),
        ("print/matrix", lambda: randn(2, 3), False, []),
        ("print/matrix-requires-grad", lambda: randn(2, 3), True, []),
        ("print/int-valued-floats", lambda: t([[1.0, 2.0], [3.0, 4.0]]), False, []),
        ("print/mixed-int-floats", lambda: t([1.0, 2.5, -3.0]), False, []),
        ("print/large-range-sci", lambda: t([1e-5, 1.0, 1e6]), False, []),
        ("print/large-values", lambda: randn(3, scale=1e5), False, []),
        ("print/small-values", lambda: randn(3, scale=1e-4), False, []),
        ("print/nan-inf", lambda: t([math.nan, math.inf, -math.inf, 1.5]), False, []),
        ("print/neg-zero", lambda: t([-0.0, 0.0, 1.0]), False, []),
        ("print/int64", lambda: torch.randint(0, 10, (2, 4)), False, []),
        ("print/bool", lambda: t([True, False, True]), False, []),
        ("print/3d", lambda: randn(2, 2, 3), False, []),
        ("print/wide-wraps", lambda: randn(2, 12), False, []),  # rows wrap at 80 columns
        ("print/long-vector-summarized", lambda: randn(1200), False, []),  # > 1000 elements: "..."
        ("print/empty", lambda: t([]), False, []),
        ("print/float64", lambda: randn(2, 2).double(), False, []),
        ("print/log-softmax-grad-fn", lambda: t([[0.3, 0.4, 0.3], [0.7, 0.1, 0.2]]), True,
         [{"op": "log_softmax", "args": [1]}]),
        ("print/sigmoid-grad-fn", lambda: randn(3, 2), True, [{"op": "sigmoid", "args": []}]),
        ("print/sum-grad-fn", lambda: randn(3, 2), True, [{"op": "sum", "args": []}]),
        ("print/wide-grad-fn-wraps", lambda: randn(2, 3, scale=10.0), True, [{"op": "sigmoid", "args": []}]),
    ]


def apply_steps(x, steps):
    for step in steps:
        x = getattr(x, step["op"])(*step["args"])
    return x


def build():
    torch.manual_seed(SEED)
    records = []
    for case_id, make_input, requires_grad, steps in definitions():
        x = make_input().requires_grad_(requires_grad)
        records.append({
            "id": case_id,
            "op": "print",
            "input": encode(x, requires_grad=requires_grad, exact=True),
            "steps": steps,
            "printed": str(apply_steps(x, steps)),
        })
    return records
