"""ops.json: plain tensor ops with broadcasting, reductions, matmul and shape ops.

Each row is (name, op, args); the case id is "name/N" with N counting from 1 in file
order, so a new row goes at the end to keep the ids of the others.
"""

from cases import SEEDED, Case, run, seeded_randn  # SEEDED, seeded_randn: for new_cases()
from recorded import Recorded
from tensors import dumps_compact

FILE = "ops.json"
dumps = dumps_compact

SAME_TENSOR_TWICE = "sameTensorTwice"  # x op x: both operands are input 0


def binary(op):
    # Input shapes are in the name; rhsNoGrad leaves the second operand without grad.
    rows = [(f"{op}/{shapes}", op, []) for shapes in
            ["3x4-3x4", "3x1-1x4", "2x3x4-4", "scalar-3x4", "4-scalar", "2x1x4-3x1", "3x1-1x4/rhsNoGrad"]]
    rows.append((f"{op}/{SAME_TENSOR_TWICE}", "chain", []))
    rows += [(f"{op}/number=2.5", op, [2.5]), (f"{op}/number=2", op, [2.0])]
    return rows


POW = [
    ("pow/number=2", "pow", [2]),
    ("pow/number=3", "pow", [3]),
    ("pow/number=0.5", "pow", [0.5]),
    ("pow/number=-1", "pow", [-1]),
    ("pow/number=1.5", "pow", [1.5]),
    ("pow/number=2/zeros", "pow", [2]),
    ("pow/tensor-tensor", "pow", []),
    ("pow/tensor-tensor/broadcast", "pow", []),
]

# Unary ops and their input variants; "edge-zero" puts exact zeros where log/sqrt have a pole.
UNARY = [
    ("neg", ["3x4", "2x3x2", "zeros", "float64"]),
    ("exp", ["3x4", "2x3x2", "zeros", "float64"]),
    ("log", ["3x4", "2x3x2", "edge-zero", "float64"]),
    ("sigmoid", ["3x4", "2x3x2", "zeros", "large50", "float64"]),
    ("tanh", ["3x4", "2x3x2", "zeros", "large50", "float64"]),
    ("relu", ["3x4", "2x3x2", "zeros", "large50", "float64"]),
    ("abs", ["3x4", "2x3x2", "zeros", "large50", "float64"]),
    ("sqrt", ["3x4", "2x3x2", "edge-zero", "float64"]),
]

MATMUL = [(f"matmul/{shapes}", "matmul", []) for shapes in [
    "3x4@4x2", "2x3x4@4x5", "4@4x3", "3x4@4", "4@4", "2x3x4@2x4x2", "1x2@2x1",
    "3x4@4x2/lhsNoGrad", "3x4@4x2/float64",
]]


def reduction(op):
    rows = [
        (f"{op}/3x4/[]", op, []),
        (f"{op}/3x4/[0]", op, [0]),
        (f"{op}/3x4/[1,true]", op, [1, True]),
        (f"{op}/3x4/[-1]", op, [-1]),
        (f"{op}/3x4/[0,true]", op, [0, True]),
        (f"{op}/2x3x4/[]", op, []),
        (f"{op}/2x3x4/[1]", op, [1]),
        (f"{op}/2x3x4/[-1,true]", op, [-1, True]),
        (f"{op}/2x3x4/[[0,2]]", op, [[0, 2]]),
        (f"{op}/2x3x4/[[0,1],true]", op, [[0, 1], True]),
        (f"{op}/float64", op, [1]),
    ]
    return rows


MAX = [
    ("max/3x4/[]", "max", []),
    ("max/3x4/[1]", "max", [1]),
    ("max/3x4/[0,true]", "max", [0, True]),
    ("max/2x3x4/[-1]", "max", [-1]),
    ("max/2x3x4/[1,true]", "max", [1, True]),
    ("max/ties/full", "max", []),  # ties share the gradient equally
    ("max/ties/dim=1", "max", [1]),  # ties: the gradient goes to the recorded index
    ("max/ties/dim=0+keepdim", "max", [0, True]),
]

LOGSUMEXP = [
    ("logsumexp/3x4/[1]/normal", "logsumexp", [1]),
    ("logsumexp/3x4/[0,true]/wide", "logsumexp", [0, True]),
    ("logsumexp/3x4/[1]/huge1000", "logsumexp", [1]),
    ("logsumexp/2x3x4/[-1]/large50", "logsumexp", [-1]),
    ("logsumexp/2x3x4/[1,true]/normal", "logsumexp", [1, True]),
    ("logsumexp/masked-inf", "logsumexp", [1]),
]


def softmax_like(op):
    return [
        (f"{op}/3x4/dim=0/normal", op, [0]),
        (f"{op}/3x4/dim=1/huge1000", op, [1]),
        (f"{op}/3x4/dim=-1/zeros", op, [-1]),
        (f"{op}/2x3x4/dim=0/wide", op, [0]),
        (f"{op}/2x3x4/dim=1/large50", op, [1]),
        (f"{op}/2x3x4/dim=-1/normal", op, [-1]),
    ]


SHAPE_OPS = [
    ("reshape/3x4->[2,6]", "reshape", [[2, 6]]),
    ("reshape/2x3x4->[4,-1]", "reshape", [[4, -1]]),
    ("reshape/6->[2,3]", "reshape", [[2, 3]]),
    ("reshape/2x3->[6]", "reshape", [[6]]),
    ("reshape/3x4->[-1]", "reshape", [[-1]]),
    ("reshape/2x3x4->[2,1,12]", "reshape", [[2, 1, 12]]),
    ("transpose/3x4/[0,1]", "transpose", [0, 1]),
    ("transpose/2x3x4/[0,2]", "transpose", [0, 2]),
    ("transpose/2x3x4/[-1,-2]", "transpose", [-1, -2]),
    ("transpose/2x3x4/[1,1]", "transpose", [1, 1]),
    ("unsqueeze/3x4/0", "unsqueeze", [0]),
    ("unsqueeze/3x4/2", "unsqueeze", [2]),
    ("unsqueeze/3x4/-1", "unsqueeze", [-1]),
    ("unsqueeze/2x3x4/1", "unsqueeze", [1]),
    ("unsqueeze/5/0", "unsqueeze", [0]),
    ("squeeze/3x1x4/[]", "squeeze", []),
    ("squeeze/3x1x4/[1]", "squeeze", [1]),
    ("squeeze/1x3x1/[]", "squeeze", []),
    ("squeeze/1x3x1/[-1]", "squeeze", [-1]),
    ("squeeze/3x4/[0]", "squeeze", [0]),
    ("squeeze/1/[]", "squeeze", []),
    ("expand/3x1->[3,4]", "expand", [[3, 4]]),
    ("expand/1x4->[2,3,4]", "expand", [[2, 3, 4]]),
    ("expand/3x1->[-1,5]", "expand", [[-1, 5]]),
    ("expand/4->[3,4]", "expand", [[3, 4]]),
    ("expand/2x1x3->[2,4,3]", "expand", [[2, 4, 3]]),
]

INDEXING = [
    ("gather/3x4/dim=1/index=3x2", "gather", [1]),
    ("gather/3x4/dim=0/index=2x4", "gather", [0]),
    ("gather/2x3x4/dim=2/index=2x3x3", "gather", [2]),
    ("gather/2x3x4/dim=1/index=2x5x4", "gather", [1]),
    ("gather/3x4/dim=1/index=3x6", "gather", [1]),
    ("index_select/5x3/dim=0/n=4", "index_select", [0]),
    ("index_select/5x3/dim=1/n=2", "index_select", [1]),
    ("index_select/2x4x3/dim=1/n=6", "index_select", [1]),
    ("index_select/4/dim=0/n=5", "index_select", [0]),
]

CLAMP = [
    ("clamp/min=-0.5/max=0.5", "clamp", [-0.5, 0.5]),
    ("clamp/min=0.0/max=None", "clamp", [0.0, None]),
    ("clamp/min=None/max=0.3", "clamp", [None, 0.3]),
    ("clamp/min=-1.0/max=1.0", "clamp", [-1.0, 1.0]),
]


def rows():
    """(name, op, args) of every case, in file order."""
    out = []
    for op in ["add", "sub", "mul", "div"]:
        out += binary(op)
    out += POW
    for op, variants in UNARY:
        out += [(f"{op}/{variant}", op, []) for variant in variants]
    out += MATMUL + reduction("sum") + reduction("mean") + MAX + LOGSUMEXP
    out += softmax_like("softmax") + softmax_like("logSoftmax")
    out += SHAPE_OPS + INDEXING + CLAMP
    return out


def make_case(case_id, name, op, args, data):
    inputs, upstream = data.inputs(case_id), data.upstream(case_id)
    if op == "chain":  # x op x, written as a one-step chain on input 0
        binary_op = name.split("/")[0]
        steps = [{"op": binary_op, "args": [], "options": {}, "extraInputs": [0]}]
        return Case(case_id, "chain", inputs, upstream=upstream, steps=steps)
    return Case(case_id, op, inputs, args=args, upstream=upstream)


def new_cases():
    """Cases added after the recorded ones, inputs built here; their ids get "/N" appended. E.g.
    Case("tanh/4x5/seeded", "tanh", [seeded_randn("tanh/4x5/seeded", 4, 5, requires_grad=True)],
         upstream=SEEDED)
    """
    return []


def build():
    data = Recorded("ops")
    records = []
    for n, (name, op, args) in enumerate(rows(), start=1):
        case_id = f"{name}/{n}"
        records.append(run(make_case(case_id, name, op, args, data)))
    for n, case in enumerate(new_cases(), start=len(records) + 1):
        case.id = f"{case.id}/{n}"
        records.append(run(case))
    return records
