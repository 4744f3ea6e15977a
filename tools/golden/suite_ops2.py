"""ops2.json: indexing, masks, joining, comparisons, selection, more math, activations.

Ops are torchlet's names (calls.py maps them to PyTorch). Random inputs and upstreams are
recorded (recorded/ops2.json); indices, masks and special values are written here. Most
ids name their args: JSON for index items ("index/[null, \":\", 1]"), Python's repr for the
others ("topk/[2, 1, False]"), as the second-round generator wrote them.
"""

import json

from cases import run, tensor
from recorded import Recorded
from second_round import (Row, drawn, drawn_then, drawn_without_grad, literal, numbered_cases,
                          owner_inputs, shared, with_grad)
from tensors import dumps_compact

FILE = "ops2.json"
dumps = dumps_compact

FIRST_NUMBER = 1  # errors2.json continues from 132

# x.index(...items) on a (4, 5, 3) input; the id shows the items.
BASIC_INDEX_ITEMS = [
    [1], [-1], [":", 2], ["1:3"], ["::2", "1:"], ["...", 0], [None, ":", 1], [0, "1:4:2", None],
    [":", ":", -1], ["-3:-1", "...", None],
]


def masked_where(predicate, owner=None):
    """The recorded x (the case's own, or owner's) and a mask computed from it."""
    def inputs(rec, case_id):
        x, = with_grad(owner_inputs(rec, owner) if owner else rec.inputs(case_id))
        return [x, predicate(x.detach())]
    return inputs


def index_rows():
    rows = [Row(f"index/{json.dumps(items)}", "index", items) for items in BASIC_INDEX_ITEMS]
    first, second = {"input": 1}, {"input": 2}
    return rows + [
        Row("index/intTensor", "index", [first], inputs=drawn_then(tensor([0, 3, 1, 0], "int64"))),
        Row("index/slice+intTensor", "index", [":", first], inputs=drawn_then(tensor([2, 0, 2], "int64"))),
        Row("index/list", "index", [[1, 1, 0]]),
        Row("index/broadcastPair", "index", [first, second],
            inputs=drawn_then(tensor([[0], [2]], "int64"), tensor([1, 0, 2], "int64"))),
        # Any threshold in [0.151, 0.360) gives this mask of the recorded x.
        Row("index/boolMask", "index", [first], inputs=masked_where(lambda x: x > 0.25)),
        Row("index/rowMask", "index", [first], inputs=drawn_then(tensor([True, False, True, True], "bool"))),
    ]


def view_and_mask_rows():
    return [
        Row("select", "select", [0, 2]),
        Row("select", "select", [1, -1]),
        Row("select", "select", [2, 0]),
        Row("narrow", "narrow", [0, 1, 2]),
        Row("narrow", "narrow", [1, 0, 3]),
        Row("narrow", "narrow", [-1, 1, 2]),
        Row("maskedFill", "maskedFill", [0.0], inputs=masked_where(lambda x: x < 0)),
        Row("maskedFill/broadcast", "maskedFill", ["-inf"],
            inputs=drawn_then(tensor([True, False, True], "bool"))),
        Row("maskedSelect", "maskedSelect", inputs=masked_where(lambda x: x > 0.5, owner="maskedFill")),
        Row("take", "take", inputs=drawn_then(tensor([0, 7, 7, 3], "int64"))),
    ]


def cat_without_grad_last(rec, case_id):
    # The last input leaves its gradient out: cat must skip it.
    *grads, last = rec.inputs(case_id)
    return with_grad(grads) + [last]


def where_broadcast(rec, case_id):
    condition = owner_inputs(rec, "where")[0]  # where's, on other x and y
    return [condition] + drawn(rec, case_id)


def join_and_shape_rows():
    return [
        Row("cat/dim0", "torch.cat", [0]),
        Row("cat/dim1", "torch.cat", [1]),
        Row("cat/negdim", "torch.cat", [-1], inputs=cat_without_grad_last),
        *[Row(f"stack/{dim}", "torch.stack", [dim]) for dim in [0, 1, -1]],
        Row("flatten", "flatten", [1]),
        Row("flip", "flip", [[0, 2]]),
        Row("repeat", "repeat", [2, 1, 2]),
        Row("where", "torch.where"),
        Row("where/broadcast", "torch.where", inputs=where_broadcast),
    ]


# The comparisons share a and b (b[0, 0] == a[0, 0]: one tie), recorded for the first case;
# the logical ops and any/all take the masks a > 0 and b > 0.
CMP_OWNER = "cmp/eq"
COMPARISONS = ["eq", "ne", "gt", "ge", "lt", "le"]
SPECIAL_VALUES = tensor([1.0, float("nan"), float("inf"), float("-inf"), 0.0, -2.5])
# any, all, sort and argsort: over everything (sort: the last dim), a dim, a dim with a flag.
DIM_ARGS = [[], [0], [1, True]]


def cmp_inputs(rec, case_id):
    return owner_inputs(rec, CMP_OWNER)


def cmp_a(rec, case_id):
    return cmp_inputs(rec, case_id)[:1]


def cmp_broadcast(rec, case_id):
    return cmp_a(rec, case_id) + drawn_without_grad(rec, case_id)


def positive(*which):
    """Bool inputs a > 0 (0) and b > 0 (1), in the order given."""
    return lambda rec, case_id: [cmp_inputs(rec, case_id)[i] > 0 for i in which]


def compare_rows():
    rows = []
    for op in COMPARISONS:
        rows += [Row(f"cmp/{op}", op, inputs=cmp_inputs), Row(f"cmp/{op}/number", op, [0.25], inputs=cmp_a)]
    rows.append(Row("cmp/broadcast", "gt", inputs=cmp_broadcast))
    rows += [Row("logicalNot", "logicalNot", inputs=positive(0)),
             Row("logicalAnd", "logicalAnd", inputs=positive(0, 1)),
             Row("logicalOr", "logicalOr", inputs=positive(0, 1))]
    rows += [Row(op, op, inputs=literal(SPECIAL_VALUES)) for op in ["isnan", "isinf", "isfinite"]]
    for args in DIM_ARGS:
        rows += [Row(f"any/{args}", "any", args, inputs=positive(0)),
                 Row(f"all/{args}", "all", args, inputs=positive(1))]
    return rows


def selection_rows():
    # minimum runs on maximum's pair, which has one tie.
    rows = [Row("maximum", "torch.maximum"), Row("minimum", "torch.minimum", inputs=shared("maximum"))]
    rows += [Row(f"min/{args}", "min", args) for args in [[], [1], [0, True]]]
    rows.append(Row("argmin", "argmin", [1], inputs=drawn_without_grad))
    rows += [Row(f"topk/{args}", "topk", args) for args in [[2], [3, 0], [2, 1, False], [4, -1, True, True]]]
    for args in DIM_ARGS:
        rows += [Row(f"sort/{args}", "sort", args),
                 Row(f"argsort/{args}", "argsort", args, inputs=drawn_without_grad)]
    return rows


UNARY = ["sin", "cos", "tan", "square", "sign", "floor", "ceil", "round", "trunc", "erf", "log1p",
         "expm1", "log2", "log10", "reciprocal", "rsqrt"]

PROD_OWNER = "prod/[]"  # every prod case runs on its input, or on it with a zero


def with_a_zero(rec, case_id):
    x, = owner_inputs(rec, PROD_OWNER)
    x[1, 2] = 0.0  # prod's gradient divides by x unless it handles zeros
    return with_grad([x])


def reduction_rows():
    rows = [Row(f"unary/{op}", op) for op in UNARY]
    for args in [[], [1], [0, True]]:
        rows += [Row(f"prod/{args}", "prod", args, inputs=shared(PROD_OWNER)),
                 Row(f"prod/zero/{args}", "prod", args, inputs=with_a_zero)]
    for op in ["std", "var"]:
        rows += [Row(f"{op}/{args}", op, args) for args in [[], [1], [0, False], [1, True, True]]]
    rows += [Row(f"norm/{args}", "norm", args) for args in [[], [1], [2, 1], [1, 0, True], [3, 1]]]
    for op in ["cumsum", "cumprod"]:
        rows += [Row(f"{op}/{dim}", op, [dim]) for dim in [0, 1]]
    rows += [Row(op, op, [[0, 1]]) for op in ["amax", "amin"]]
    return rows


CLASSES = tensor([0, 2, 1, 2], "int64")


def factory_and_activation_rows():
    return [
        Row("linspace", "torch.linspace", [-1.0, 2.0, 7], inputs=literal()),
        Row("logspace", "torch.logspace", [0.0, 2.0, 5], inputs=literal()),
        Row("oneHot", "F.oneHot", [4], inputs=literal(CLASSES)),
        Row("oneHot/inferred", "F.oneHot", inputs=literal(CLASSES)),
        Row("softplus", "F.softplus"),
        Row("softplus/beta", "F.softplus", [2.0, 1.0]),
        Row("gelu", "F.gelu"),
        Row("gelu/tanh", "F.gelu", options={"approximate": "tanh"}),
        Row("leakyRelu", "F.leakyRelu", [0.1]),
        Row("elu", "F.elu", [1.0]),
        Row("silu", "F.silu"),
        Row("logSigmoid", "F.logSigmoid"),
    ]


def rows():
    """Every row in file order."""
    return (index_rows() + view_and_mask_rows() + join_and_shape_rows() + compare_rows()
            + selection_rows() + reduction_rows() + factory_and_activation_rows())


def build():
    return [run(case) for case in numbered_cases(rows(), Recorded("ops2"), FIRST_NUMBER)]
