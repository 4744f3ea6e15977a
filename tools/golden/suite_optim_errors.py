"""optim_errors.json: optimizers built with bad options, with PyTorch's exception and message.

These are the `op: "optim"` cases of the second-round errors2.json, kept in a file of their
own: constructing `optim.TYPE([p], options)` raises.
"""

import torch

from suite_optimizers import case_id, make_optimizer
from tensors import dumps_compact

FILE = "optim_errors.json"
dumps = dumps_compact

# The second-round generator numbered its cases across all its files; these are 300-303.
FIRST_NUMBER = 300

# (optimizer, camelCase options), each with one bad value.
BAD_OPTIONS = [
    ("Adam", {"lr": -0.01}),
    ("Adam", {"betas": [1.0, 0.999]}),
    ("RMSprop", {"alpha": -1.0}),
    ("Adagrad", {"lrDecay": -0.5}),
]


def error_case(number, name, options):
    record = {"id": case_id("optimError", name, options, number), "op": "optim",
              "optim": {"type": name, "options": options}}
    try:
        make_optimizer(name, [torch.zeros(2, requires_grad=True)], options)
    except Exception as e:  # the expected outcome
        record["error"] = {"pytorchMessage": str(e), "type": type(e).__name__}
        return record
    raise ValueError(f"{record['id']}: PyTorch accepted these options")


def build():
    return [error_case(FIRST_NUMBER + i, name, options) for i, (name, options) in enumerate(BAD_OPTIONS)]
