"""errors2.json: bad input to the second-round ops, in-place ops, losses and optimizers.

Each section keeps the number its cases had in the second-round generator, which wrote
each file's errors after that file's cases: ops2's (132-140), inplace's leaf errors
(161-162), losses2's (274-277) and the optimizers' (300-303, shared with optim_errors.json).
The ops' random inputs are recorded (recorded/errors2.json); the losses' inputs are ones.
"""

import warnings

import torch

import suite_optim_errors
from cases import run, tensor
from recorded import Recorded
from second_round import Row, drawn, drawn_then, literal, numbered_cases
from tensors import dumps_compact

FILE = "errors2.json"
dumps = dumps_compact


def ones(*shape, grad=False):
    return torch.ones(*shape).requires_grad_(grad)


OPS_ERRORS = (132, [
    Row("index/outOfRange", "index", [4]),
    Row("cat/mismatch", "torch.cat", [0]),
    Row("stack/mismatch", "torch.stack", [0]),
    Row("topk/kTooLarge", "topk", [5]),
    Row("where/shape", "torch.where",
        inputs=lambda rec, case_id: [torch.ones(3, 4, dtype=torch.bool)] + drawn(rec, case_id)),
    Row("maskedFill/shape", "maskedFill", [1.0], inputs=drawn_then(torch.ones(5, dtype=torch.bool))),
    Row("select/outOfRange", "select", [1, 7]),
    Row("narrow/outOfRange", "narrow", [1, 2, 5]),
    Row("oneHot/classTooLarge", "F.oneHot", [3], inputs=literal(tensor([0, 5], "int64"))),
])

# In place on a leaf that requires grad.
LEAF_ERRORS = (161, [
    Row("inplace/leaf", "add_", [1.0]),
    Row("inplace/leafZero", "zero_"),
])

LOSS_ERRORS = (274, [
    Row("mse/shape", "nn.MSELoss", inputs=literal(ones(3, 4, grad=True), ones(3, 5))),
    Row("kldiv/reduction", "nn.KLDivLoss", options={"reduction": "avg"},
        inputs=literal(ones(3, grad=True), ones(3))),
    Row("layerNorm/shape", "F.layerNorm", [[5]], inputs=literal(ones(3, 4, grad=True))),
    Row("embedding/range", "F.embedding", inputs=literal(tensor([0, 9], "int64"), ones(4, 2, grad=True))),
])


def build():
    rec = Recorded("errors2")
    records = []
    with warnings.catch_warnings():
        # mse/shape's target has the wrong size on purpose; PyTorch warns before it raises.
        warnings.filterwarnings("ignore", message="Using a target size")
        for first_number, rows in [OPS_ERRORS, LEAF_ERRORS, LOSS_ERRORS]:
            records += [run(case) for case in numbered_cases(rows, rec, first_number)]
    return records + suite_optim_errors.build()
