"""torchlet's op names (shared/API.md) as PyTorch calls, for the second-round golden files.

An op is a Tensor method in camelCase (`maskedFill` is `masked_fill`), `index`/`indexPut_`
(PyTorch's `x[items]` and `x[items] = value`), `torch.NAME` (a function of the inputs) or
`F.NAME` (torch.nn.functional). Options are camelCase keywords.
"""

import re

import torch
import torch.nn.functional as F

NON_FINITE = ("nan", "inf", "-inf")

# Functions whose snake_case name is not PyTorch's.
F_NAMES = {"logSigmoid": "logsigmoid"}
# These take the inputs as one list: torch.cat([a, b], dim).
LIST_FUNCTIONS = {"cat", "stack"}


def snake(name):
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def keywords(options):
    return {snake(k): v for k, v in options.items()}


def number(v):
    """An arg as Python passes it: JSON spells non-finite numbers as strings, as in tensors."""
    return float(v) if isinstance(v, str) and v in NON_FINITE else v


def index_item(item, operands):
    """One item of x.index(...): {"input": k} is inputs[k], "a:b:s" a slice, "..." Ellipsis."""
    if isinstance(item, dict):
        return operands[item["input"]]
    if item == "...":
        return Ellipsis
    if isinstance(item, str):
        return slice(*[int(part) if part else None for part in item.split(":")])
    return item  # a number, None (new axis) or a list of numbers


def index_key(items, operands):
    return tuple(index_item(item, operands) for item in items)


def index_put_(operands, items, value):
    x = operands[0]
    x[index_key(items, operands)] = number(value)
    return x  # in place, like the other *_ ops


def layer_norm(operands, normalized_shape, options):
    # Weight and bias, when present, are inputs 1 and 2 so that their gradients are recorded.
    weight, bias = (list(operands[1:]) + [None, None])[:2]
    return F.layer_norm(operands[0], normalized_shape, weight, bias, **keywords(options))


def f_function(name):
    return getattr(F, F_NAMES.get(name) or snake(name), None)


def resolves(op):
    """Whether op names a PyTorch call: an unknown op must fail loudly, not as an expected error."""
    if op in ("index", "indexPut_", "F.layerNorm"):
        return True
    if op.startswith("torch."):
        return hasattr(torch, op[6:])
    if op.startswith("F."):
        return f_function(op[2:]) is not None
    return hasattr(torch.Tensor, snake(op))


def call(op, operands, args, options):
    """op applied to the operands (inputs, or a chain's value and its extra inputs)."""
    if op == "index":
        return operands[0][index_key(args, operands)]
    if op == "indexPut_":
        return index_put_(operands, *args)
    if op == "F.layerNorm":
        return layer_norm(operands, *args, options)
    args = [number(a) for a in args]
    if op.startswith("torch."):
        name = op[6:]
        inputs = [list(operands)] if name in LIST_FUNCTIONS else operands
        return getattr(torch, name)(*inputs, *args, **keywords(options))
    if op.startswith("F."):
        return f_function(op[2:])(*operands, *args, **keywords(options))
    return getattr(operands[0], snake(op))(*operands[1:], *args, **keywords(options))
