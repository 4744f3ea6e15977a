"""losses2.json: regression losses, KLDivLoss, layer norm, embedding, activation modules.

Random inputs, targets, layer-norm weights and upstreams are recorded (recorded/losses2.json);
the regression targets share their first element with the input, so that every loss meets
a zero difference. Ids name the options as JSON, and shapes and flags as Python writes them.
"""

import json
import warnings

from cases import run, tensor
from recorded import Recorded
from second_round import Row, numbered_cases, owner_inputs, with_grad
from tensors import dumps_compact

FILE = "losses2.json"
dumps = dumps_compact

FIRST_NUMBER = 188  # after double_backward.json; errors2.json continues from 274

SHAPES = ["4x3", "6", "2x3x4"]
REDUCTIONS = ["none", "mean", "sum"]
# (module, options besides reduction)
REGRESSION_LOSSES = [
    ("MSELoss", {}), ("L1Loss", {}), ("SmoothL1Loss", {}), ("SmoothL1Loss", {"beta": 0.5}),
    ("HuberLoss", {}), ("HuberLoss", {"delta": 0.7}),
]


def input_and_target(target_grad):
    """The recorded input (requires grad) and target (requires grad if target_grad)."""
    def inputs(rec, case_id):
        x, target = rec.inputs(case_id)
        return [x.requires_grad_(True), target.requires_grad_(target_grad)]
    return inputs


def regression_rows():
    rows = []
    for shape in SHAPES:
        for reduction in REDUCTIONS:
            # The target requires grad too, except with sum: both kinds of target are covered.
            inputs = input_and_target(reduction != "sum")
            rows += [Row(f"nn.{module}/{shape}/{reduction}/{json.dumps(extra)}", f"nn.{module}",
                         options={**extra, "reduction": reduction}, inputs=inputs)
                     for module, extra in REGRESSION_LOSSES]
    return rows


def kl_div_rows():
    # A log-space target requires grad too; a probability target does not.
    return [Row(f"nn.KLDivLoss/{reduction}/{log_target}", "nn.KLDivLoss",
                options={"reduction": reduction, "logTarget": log_target}, inputs=input_and_target(log_target))
            for reduction in REDUCTIONS + ["batchmean"] for log_target in [False, True]]


FUNCTIONAL_LOSSES = [Row(f"F.{name}", f"F.{name}", inputs=input_and_target(False))
                     for name in ["mseLoss", "l1Loss", "smoothL1Loss", "huberLoss"]]

# (input shape, normalized shape)
LAYER_NORMS = [((4, 6), [6]), ((2, 3, 4), [3, 4]), ((3, 5), [5])]


def affine_input(affine_name):
    """The x recorded with the affine case (which also recorded its weight and bias)."""
    return lambda rec, case_id: with_grad(owner_inputs(rec, affine_name)[:1])


def layer_norm_rows():
    rows = []
    for shape, normalized in LAYER_NORMS:
        name = f"layerNorm/{shape}/{normalized}"
        same_x = affine_input(f"{name}/affine")
        rows += [Row(f"{name}/affine", "F.layerNorm", [normalized], {"eps": 1e-05}),
                 Row(f"{name}/plain", "F.layerNorm", [normalized], inputs=same_x),
                 Row(f"{name}/module", "nn.LayerNorm", [normalized], {"eps": 0.001}, inputs=same_x)]
    return rows


EMBEDDING_INDICES = tensor([[0, 2, 2], [5, 1, 0]], "int64")


def indices_and_weight(rec, _):
    return [EMBEDDING_INDICES] + with_grad(owner_inputs(rec, "embedding"))


EMBEDDING_ROWS = [
    Row("embedding", "F.embedding", inputs=indices_and_weight),
    Row("embedding/paddingIdx", "F.embedding", options={"paddingIdx": 2}, inputs=indices_and_weight),
]

# (module, args, options), each on its own (3, 2, 2) input
ACTIVATION_MODULES = [
    ("GELU", [], {}), ("GELU", [], {"approximate": "tanh"}), ("Tanh", [], {}), ("LeakyReLU", [0.05], {}),
    ("ELU", [], {}), ("SiLU", [], {}), ("Softplus", [], {}), ("Flatten", [], {}), ("Identity", [], {}),
]


def activation_rows():
    return [Row(f"nn.{module}/{json.dumps(args)}/{json.dumps(options)}", f"nn.{module}", args, options)
            for module, args, options in ACTIVATION_MODULES]


def rows():
    """Every row in file order."""
    return (regression_rows() + kl_div_rows() + FUNCTIONAL_LOSSES + layer_norm_rows() + EMBEDDING_ROWS
            + activation_rows())


def build():
    cases = numbered_cases(rows(), Recorded("losses2"), FIRST_NUMBER)
    with warnings.catch_warnings():
        # KLDivLoss's 'mean' warns that it will change: its 1.13 behaviour is what is recorded.
        warnings.filterwarnings("ignore", message="reduction: 'mean' divides the total loss")
        return [run(case) for case in cases]
