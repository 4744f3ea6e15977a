"""autograd_functional.json: torch.autograd.functional's vjp, jvp, jacobian, hessian, hvp and vhp.

Each case calls one of them on a function from the catalogue below (the test defines the same
functions by name), with inputs drawn from generators seeded by the case id. It records the
function's output and the result with PyTorch's structure (a tensor, or a list for a tuple,
nested for jacobian and hessian of tuples), each tensor with its requires_grad (true only with
create_graph), or the error PyTorch raises (strict mode, bad v).

Case: {"id", "api", "fn", "inputs": [...], "tupleInputs", "v": [...] | null, "tupleV",
"options": {"createGraph"?, "strict"?}, "output", "result"} or, instead of the last two,
"error": {"pytorchMessage", "type"}.
"""

import torch
import torch.nn.functional as F
from torch.autograd import functional

from cases import seeded_randn, tensor
from tensors import dumps_compact, encode

FILE = "autograd_functional.json"
dumps = dumps_compact

# Constants of the catalogue's functions, literal so that the test can write them too.
TARGETS = tensor([2, 0, 1], "int64")
MLP_INPUT = tensor([[0.5, -1.25, 2.0, 0.75], [-0.3, 0.8, -1.6, 1.1], [1.4, 0.2, -0.7, -2.1]], "float64")
BCE_TARGET = tensor([[0.9, 0.1, 0.5], [0.25, 1.0, 0.0]], "float64")
POS_WEIGHT = tensor([0.5, 2.0, 1.5], "float64")
MATRIX = tensor([[1.0, -2.0], [0.5, 3.0], [-1.5, 0.25]], "float64")

# The catalogue: name -> function of the inputs. The test has the same functions by name.
FUNCTIONS = {
    # The examples of PyTorch's documentation.
    "expSum": lambda x: x.exp().sum(dim=1),
    "twoXThreeY": lambda x, y: 2 * x + 3 * y,
    "cubeSum": lambda x: x.pow(3).sum(),
    "powReducer": lambda x, y: (2 * x.pow(2) + 3 * y.pow(2)).sum(),
    # Several outputs, several inputs.
    "productAndScale": lambda x, y: (x * y, x.sum() * y.exp()),
    # The losses and products made twice differentiable.
    "classifierLoss": lambda w1, w2: F.cross_entropy(torch.tanh(MLP_INPUT @ w1) @ w2, TARGETS, label_smoothing=0.1),
    "softmaxRows": lambda x: torch.softmax(x, dim=1),
    "bceLogits": lambda x: F.binary_cross_entropy_with_logits(x, BCE_TARGET, pos_weight=POS_WEIGHT),
    "sigmoidMatmul": lambda x: torch.sigmoid(x @ MATRIX).sum(),
    # Linear in x: its Hessian is zero, an error in strict mode.
    "linear": lambda x: (x @ MATRIX).sum(),
    # y unused: zeros, or an error in strict mode.
    "ignoresY": lambda x, y: x.pow(2).sum(),
}

# (api, fn, input shapes, v shapes or None, options); inputs and v are drawn from the case id.
DEFINITIONS = [
    ("vjp", "expSum", [[4, 4]], [[4]], {}),
    ("vjp", "expSum", [[4, 4]], [[4]], {"createGraph": True}),
    ("vjp", "twoXThreeY", [[2], [2]], [[2]], {}),
    ("vjp", "cubeSum", [[3]], None, {}),
    ("vjp", "productAndScale", [[3], [3]], [[3], [3]], {}),
    ("vjp", "ignoresY", [[2], [3]], None, {}),
    ("vjp", "ignoresY", [[2], [3]], None, {"strict": True}),
    ("vjp", "expSum", [[4, 4]], None, {}),
    ("vjp", "expSum", [[4, 4]], [[3]], {}),
    ("jvp", "expSum", [[4, 4]], [[4, 4]], {}),
    ("jvp", "expSum", [[4, 4]], [[4, 4]], {"createGraph": True}),
    ("jvp", "twoXThreeY", [[2], [2]], [[2], [2]], {}),
    ("jvp", "productAndScale", [[3], [3]], [[3], [3]], {}),
    ("jvp", "softmaxRows", [[2, 3]], [[2, 3]], {}),
    ("jvp", "bceLogits", [[2, 3]], [[2, 3]], {}),
    ("jvp", "classifierLoss", [[4, 5], [5, 3]], [[4, 5], [5, 3]], {}),
    ("jvp", "twoXThreeY", [[2], [2]], [[2]], {}),
    ("jacobian", "expSum", [[2, 3]], None, {}),
    ("jacobian", "twoXThreeY", [[2], [2]], None, {}),
    ("jacobian", "productAndScale", [[3], [3]], None, {}),
    ("jacobian", "softmaxRows", [[2, 3]], None, {"createGraph": True}),
    ("jacobian", "ignoresY", [[2], [3]], None, {}),
    ("jacobian", "ignoresY", [[2], [3]], None, {"strict": True}),
    ("hessian", "cubeSum", [[3]], None, {}),
    ("hessian", "powReducer", [[2], [2]], None, {}),
    ("hessian", "classifierLoss", [[4, 5], [5, 3]], None, {}),
    ("hessian", "bceLogits", [[2, 3]], None, {}),
    ("hessian", "sigmoidMatmul", [[2, 3]], None, {"createGraph": True}),
    ("hessian", "linear", [[2, 3]], None, {}),
    ("hessian", "linear", [[2, 3]], None, {"strict": True}),
    ("hessian", "expSum", [[2, 3]], None, {}),
    ("vhp", "cubeSum", [[3]], [[3]], {}),
    ("vhp", "powReducer", [[2], [2]], [[2], [2]], {}),
    ("vhp", "classifierLoss", [[4, 5], [5, 3]], [[4, 5], [5, 3]], {}),
    ("vhp", "sigmoidMatmul", [[2, 3]], [[2, 3]], {"createGraph": True}),
    ("vhp", "linear", [[2, 3]], [[2, 3]], {"strict": True}),
    ("hvp", "cubeSum", [[3]], [[3]], {}),
    ("hvp", "powReducer", [[2], [2]], [[2], [2]], {}),
    ("hvp", "classifierLoss", [[4, 5], [5, 3]], [[4, 5], [5, 3]], {}),
    ("hvp", "bceLogits", [[2, 3]], [[2, 3]], {}),
    ("hvp", "sigmoidMatmul", [[2, 3]], [[2, 3]], {"createGraph": True}),
    ("hvp", "ignoresY", [[2], [3]], [[2], [3]], {}),
    ("hvp", "expSum", [[2, 3]], [[2, 3]], {}),
]

APIS = {name: getattr(functional, name) for name in ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]}


def snake(options):
    return {{"createGraph": "create_graph", "strict": "strict"}[k]: v for k, v in options.items()}


def encode_structure(value):
    """A tensor as its dict (with requiresGrad), a tuple as a list, nested."""
    if isinstance(value, torch.Tensor):
        return encode(value, requires_grad=value.requires_grad)
    return [encode_structure(v) for v in value]


def draw(case_id, what, shapes):
    return [seeded_randn(f"{case_id}/{what}{i}", *shape, dtype="float64") for i, shape in enumerate(shapes)]


def run(number, api, fn, input_shapes, v_shapes, options):
    case_id = f"{api}/{fn}/{number}"
    inputs = draw(case_id, "input", input_shapes)
    v = None if v_shapes is None else draw(case_id, "v", v_shapes)
    record = {
        "id": case_id,
        "api": api,
        "fn": fn,
        "inputs": [encode(t) for t in inputs],
        "tupleInputs": len(inputs) > 1,
        "v": None if v is None else [encode(t) for t in v],
        "tupleV": v is not None and len(v) > 1,
        "options": options,
    }
    args = [FUNCTIONS[fn], tuple(inputs) if len(inputs) > 1 else inputs[0]]
    if v is not None:
        args.append(tuple(v) if len(v) > 1 else v[0])
    try:
        result = APIS[api](*args, **snake(options))
    except Exception as e:  # the expected outcome of the strict and bad-v cases
        record["error"] = {"pytorchMessage": str(e), "type": type(e).__name__}
        return record
    if api in ("jacobian", "hessian"):
        record["result"] = encode_structure(result)
    else:
        output, value = result
        record["output"] = encode_structure(output)
        record["result"] = encode_structure(value)
    return record


def build():
    return [run(i, *definition) for i, definition in enumerate(DEFINITIONS)]


if __name__ == "__main__":
    import generate  # writes through the common entry point

    generate.main(["--only", FILE])
