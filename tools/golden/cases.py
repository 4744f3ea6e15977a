"""The CASE record: build one from a definition, run it through PyTorch, write the result.

A definition names an op (a torch.nn module "nn.X", a tensor op in torchlet's spelling, see
calls.py, or "chain"), its inputs, positional args and camelCase options. Running it records
the output, the grad_fn name, the gradients after backward, or the exception PyTorch raised
(in the forward, or at backward with "phase": "backward").
"""

import zlib
from dataclasses import dataclass, field

import torch

from calls import call, keywords, resolves
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
    steps: list = None  # "chain" and "gradgrad": [{"op", "args", "options", "extraInputs"?}]
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


# First-round ops whose index is the second input but comes after dim in PyTorch's signature.
REORDERED_OPS = {
    "gather": lambda xs, args: xs[0].gather(args[0], xs[1]),
    "index_select": lambda xs, args: xs[0].index_select(args[0], xs[1]),
}


def apply_op(op, args, options, operands):
    """One op on operands: nn modules are built from args and options, then called."""
    if op.startswith("nn."):
        module = getattr(torch.nn, op[3:])(*args, **keywords(options))
        return module(*operands)
    if op in REORDERED_OPS:
        return REORDERED_OPS[op](operands, args)
    return call(op, operands, args, options)


def check_ops(case):
    """Fail loudly on an unknown op: inside run() it would pass for an expected error."""
    ops = [case.op] if case.steps is None else [step["op"] for step in case.steps]
    for op in ops:
        known = hasattr(torch.nn, op[3:]) if op.startswith("nn.") else op in REORDERED_OPS or resolves(op)
        if not known:
            raise ValueError(f"{case.id}: unknown op {op}")


def forward(case):
    """The case's result: a tensor, or (values, indices) for max/min/topk/sort with a dim.

    A case with steps ("chain", or double_backward's "gradgrad") applies them to input 0.
    """
    if case.steps is None:
        return apply_op(case.op, case.args, case.options, case.inputs)
    x = case.inputs[0]
    for step in case.steps:
        extra = [case.inputs[i] for i in step.get("extraInputs", [])]
        x = apply_op(step["op"], step.get("args", []), step.get("options", {}), [x] + extra)
    return x


def _options_json(options):
    return {k: encode(v) if isinstance(v, torch.Tensor) else v for k, v in options.items()}


def step_json(step):
    """A chain step as written: its options may hold tensors (a loss weight)."""
    return {k: _options_json(v) if k == "options" else v for k, v in step.items()}


def error_json(exception, **extra):
    return {"pytorchMessage": str(exception), "type": type(exception).__name__, **extra}


def upstream_for(case, output):
    """The gradient passed to output.backward(): None, recorded, or drawn (SEEDED)."""
    if output.dim() == 0 or not output.requires_grad:
        return None  # plain backward() on a scalar, or no backward at all (a bool result)
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
        record["steps"] = [step_json(step) for step in case.steps]
    record["inputs"] = [encode(x, requires_grad=x.requires_grad) for x in case.inputs]
    check_ops(case)
    try:
        result = forward(case)
    except Exception as e:  # the expected outcome of an error case
        record.update(output=None, gradFn=None, upstream=None, grads=None, error=error_json(e))
        return record

    indices = None
    if isinstance(result, tuple):  # (values, indices): values carry the graph, indices are recorded
        result, indices = result
    if case.note is not None:
        record["note"] = case.note.format(result.item())
    record["output"] = encode(result)
    if indices is not None:
        record["indices"] = encode(indices)
    record["gradFn"] = result.grad_fn.name() if result.grad_fn is not None else None

    upstream = upstream_for(case, result)
    record["upstream"] = None if upstream is None else encode(upstream)
    if result.requires_grad:
        try:
            result.backward(upstream)
        except Exception as e:  # expected: a tensor saved for backward was modified in place
            record.update(grads=None, error=error_json(e, phase="backward"))
            return record
    record["grads"] = [
        encode(x.grad) if x.requires_grad and x.grad is not None else None for x in case.inputs
    ]
    record["error"] = None
    return record
