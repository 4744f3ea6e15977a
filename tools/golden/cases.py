"""The CASE record: build one from a definition, run it through PyTorch, write the result.

A definition names an op (a torch.nn module "nn.X", a plain tensor op, or "chain"), its
inputs, positional args and camelCase options. Running it records the output, the grad_fn
name, the gradients after backward, or the exception PyTorch raised.
"""

import re
import zlib
from dataclasses import dataclass, field

import torch

from tensors import DTYPES, encode

# Marks an upstream to draw from a generator seeded by the case id: new cases need no data file.
SEEDED = "seeded"


@dataclass
class Case:
    id: str
    op: str
    inputs: list  # torch tensors; a leaf with requires_grad=True gets its .grad recorded
    args: list = field(default_factory=list)
    options: dict = field(default_factory=dict)  # camelCase keys, written in this order
    upstream: object = None  # tensor, SEEDED, or None when the output is 0-d
    steps: list = None  # "chain" only: [{"op", "args", "options", "extraInputs"?}]
    note: str = None  # format string for the output value, e.g. "notes print {:.4f}"


def seed_of(key):
    """A stable seed from a string (Python's hash() changes between runs)."""
    return zlib.crc32(key.encode("utf-8"))


def seeded_randn(key, *shape, dtype="float32", scale=1.0, requires_grad=False):
    """Standard normal values from a generator seeded by key: reproducible new inputs."""
    g = torch.Generator().manual_seed(seed_of(key))
    t = torch.randn(*shape, generator=g, dtype=DTYPES[dtype]) * scale
    return t.requires_grad_(requires_grad)


def tensor(values, dtype="float32", requires_grad=False):
    """A literal input, e.g. tensor([0, 3, 1, 4], "int64") for class targets."""
    return torch.tensor(values, dtype=DTYPES[dtype]).requires_grad_(requires_grad)


def _camel_to_snake(name):
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _method(name):
    """x.name(*other_inputs, *args): covers unary, binary, reductions and shape ops."""
    return lambda xs, args: getattr(xs[0], name)(*xs[1:], *args)


PLAIN_OPS = {
    name: _method(name)
    for name in [
        "add", "sub", "mul", "div", "pow", "neg", "exp", "log", "sigmoid", "tanh",
        "relu", "abs", "sqrt", "matmul", "sum", "mean", "max", "logsumexp", "softmax",
        "reshape", "transpose", "unsqueeze", "squeeze", "expand", "clamp",
    ]
}
PLAIN_OPS["logSoftmax"] = _method("log_softmax")
# The index comes second among the inputs but after dim in PyTorch's signature.
PLAIN_OPS["gather"] = lambda xs, args: xs[0].gather(args[0], xs[1])
PLAIN_OPS["index_select"] = lambda xs, args: xs[0].index_select(args[0], xs[1])


def apply_op(op, args, options, operands):
    """One op on operands: nn modules are built from args and options, then called."""
    if op.startswith("nn."):
        kwargs = {_camel_to_snake(k): v for k, v in options.items()}
        module = getattr(torch.nn, op[3:])(*args, **kwargs)
        return module(*operands)
    if options:
        raise ValueError(f"plain op {op} takes no options")
    return PLAIN_OPS[op](operands, args)


def check_ops(case):
    """Fail loudly on an unknown op: inside run() it would pass for an expected error."""
    ops = [case.op] if case.op != "chain" else [step["op"] for step in case.steps]
    for op in ops:
        known = hasattr(torch.nn, op[3:]) if op.startswith("nn.") else op in PLAIN_OPS
        if not known:
            raise ValueError(f"{case.id}: unknown op {op}")


def forward(case):
    """The case's result: a tensor, or (values, indices) for max with a dim."""
    if case.op != "chain":
        return apply_op(case.op, case.args, case.options, case.inputs)
    x = case.inputs[0]
    for step in case.steps:
        extra = [case.inputs[i] for i in step.get("extraInputs", [])]
        x = apply_op(step["op"], step.get("args", []), step.get("options", {}), [x] + extra)
    return x


def _options_json(options):
    return {k: encode(v) if isinstance(v, torch.Tensor) else v for k, v in options.items()}


def _upstream_for(case, output):
    if output.dim() == 0:
        return None  # plain backward() on a scalar
    if isinstance(case.upstream, str) and case.upstream == SEEDED:  # (a tensor has no plain ==)
        g = torch.Generator().manual_seed(seed_of(case.id + "/upstream"))
        return torch.randn(output.shape, generator=g, dtype=output.dtype)
    if case.upstream is None:
        raise ValueError(f"{case.id}: a non-scalar output needs an upstream")
    return case.upstream


def run(case):
    """Run the case and return its JSON record (keys in the golden files' order)."""
    record = {"id": case.id, "op": case.op, "args": case.args, "options": _options_json(case.options)}
    if case.steps is not None:
        record["steps"] = case.steps
    record["inputs"] = [encode(x, requires_grad=x.requires_grad) for x in case.inputs]
    check_ops(case)
    try:
        result = forward(case)
    except Exception as e:  # the expected outcome of an error case
        record.update(output=None, gradFn=None, upstream=None, grads=None,
                      error={"pytorchMessage": str(e), "type": type(e).__name__})
        return record

    indices = None
    if isinstance(result, tuple):  # max(dim): values carry the graph, indices are recorded
        result, indices = result
    if case.note is not None:
        record["note"] = case.note.format(result.item())
    record["output"] = encode(result)
    if indices is not None:
        record["indices"] = encode(indices)
    record["gradFn"] = result.grad_fn.name() if result.grad_fn is not None else None

    upstream = _upstream_for(case, result)
    record["upstream"] = None if upstream is None else encode(upstream)
    if result.requires_grad:
        result.backward(upstream)
    record["grads"] = [
        encode(x.grad) if x.requires_grad and x.grad is not None else None for x in case.inputs
    ]
    record["error"] = None
    return record
