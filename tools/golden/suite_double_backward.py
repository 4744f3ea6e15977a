"""double_backward.json: second derivatives through a chain of ops ("gradgrad").

The chain gives output; s is output if it is 0-d, else (output * upstream).sum(). The first
gradients gs = autograd.grad(s, D, create_graph=True, allow_unused=True) for the inputs D
that require grad; then sum_i (gs[i] * v[i]).sum() is backpropagated to D's .grad. Inputs,
upstreams, the vectors v and the loss weights are recorded (recorded/double_backward.json).
"""

import torch

from cases import forward, seeded_randn, step_json, tensor, upstream_for
from recorded import TENSOR, Recorded
from second_round import Row, drawn, drawn_then, numbered_cases, step
from tensors import dumps_compact, encode

FILE = "double_backward.json"
dumps = dumps_compact

FIRST_NUMBER = 163  # after inplace.json's leaf errors (errors2.json, 161-162)

CLASS_TARGETS = tensor([2, 0, 0, 2], "int64")
BINARY_TARGETS = tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [1.0, 0.0, 1.0]])


def gradgrad(name, *steps, inputs=drawn):
    """A case on the recorded inputs (each requires grad) unless inputs says otherwise."""
    return Row(f"gradgrad/{name}", "gradgrad", inputs=inputs, steps=list(steps))


def loss(module, options=None):
    """A loss step: its target is input 1."""
    return step(module, options=options, extra=[1])


ROWS = [
    *[gradgrad(op, step(op)) for op in ["tanh", "sigmoid", "exp", "log", "sqrt"]],
    gradgrad("pow3", step("pow", 3.0)),
    gradgrad("div", step("div", extra=[1])),
    gradgrad("mul", step("mul", extra=[1]), step("sum")),
    gradgrad("matmul", step("matmul", extra=[1]), step("tanh")),
    gradgrad("softmax", step("softmax", 1)),
    gradgrad("logSoftmax", step("logSoftmax", -1)),
    gradgrad("logsumexp", step("logsumexp", 1)),
    gradgrad("norm", step("norm")),
    gradgrad("std", step("std", 1)),
    gradgrad("softplus", step("F.softplus")),
    gradgrad("gelu", step("F.gelu")),
    gradgrad("mean+pow", step("pow", 2.0), step("mean", 0)),
    gradgrad("CrossEntropyLoss", loss("nn.CrossEntropyLoss"), inputs=drawn_then(CLASS_TARGETS)),
    gradgrad("CrossEntropyLoss/weight+smoothing",
             loss("nn.CrossEntropyLoss", {"weight": TENSOR, "labelSmoothing": 0.1}),
             inputs=drawn_then(CLASS_TARGETS)),
    gradgrad("NLLLoss(logSoftmax)", step("logSoftmax", 1), loss("nn.NLLLoss"), inputs=drawn_then(CLASS_TARGETS)),
    gradgrad("BCEWithLogitsLoss", loss("nn.BCEWithLogitsLoss"), inputs=drawn_then(BINARY_TARGETS)),
    gradgrad("BCEWithLogitsLoss/posWeight", loss("nn.BCEWithLogitsLoss", {"posWeight": TENSOR}),
             inputs=drawn_then(BINARY_TARGETS)),
    gradgrad("BCELoss(sigmoid)", step("sigmoid"), loss("nn.BCELoss"), inputs=drawn_then(BINARY_TARGETS)),
    # A step after the loss: the loss is not the last op of the chain.
    gradgrad("MSELoss", loss("nn.MSELoss"), step("mul", 1.0)),
    # A gradient penalty: the gradients of a scalar score, x's and W's, are differentiated again.
    gradgrad("gradientPenalty", step("matmul", extra=[1]), step("tanh"), step("sum")),
]


def with_recorded_options(case, rec):
    """The steps with each TENSOR option (a loss weight) replaced by its recorded tensor."""
    def resolved(options):
        return {k: rec.option(case.id, k) if isinstance(v, str) and v == TENSOR else v
                for k, v in options.items()}
    case.steps = [{**s, "options": resolved(s["options"])} for s in case.steps]
    return case


def vectors(case, rec):
    """v, one per input that requires grad: recorded, or for a new case drawn from its id."""
    if case.id in rec.entries:
        return rec.tensors(case.id, "v")
    differentiable = [x for x in case.inputs if x.requires_grad]
    return [seeded_randn(f"{case.id}/v{i}", *x.shape) for i, x in enumerate(differentiable)]


def encode_all(tensors):
    return [None if t is None else encode(t) for t in tensors]


def run_gradgrad(case, v):
    """The case's record: output, first gradients, v and second gradients (see above)."""
    record = {"id": case.id, "op": "gradgrad", "steps": [step_json(s) for s in case.steps],
              "inputs": [encode(x, requires_grad=x.requires_grad) for x in case.inputs]}
    output = forward(case)
    upstream = upstream_for(case, output)
    s = output if upstream is None else (output * upstream).sum()
    differentiable = [x for x in case.inputs if x.requires_grad]
    first = torch.autograd.grad([s], differentiable, create_graph=True, allow_unused=True)
    # A first gradient that is None (input unused) counts as zeros: it adds no term.
    terms = [(g * w).sum() for g, w in zip(first, v) if g is not None]
    sum(terms[1:], terms[0]).backward()  # added left to right, as the format writes the sum
    record.update(output=encode(output), upstream=None if upstream is None else encode(upstream),
                  firstGrads=encode_all(first), v=encode_all(v),
                  secondGrads=encode_all([x.grad for x in differentiable]))
    return record


def build():
    rec = Recorded("double_backward")
    cases = numbered_cases(ROWS, rec, FIRST_NUMBER)
    return [run_gradgrad(with_recorded_options(case, rec), vectors(case, rec)) for case in cases]
