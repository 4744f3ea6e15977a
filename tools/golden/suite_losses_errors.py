"""losses_errors.json: bad inputs to the loss modules, with PyTorch's exception and message."""

from cases import Case, run, seeded_randn, tensor  # seeded_randn, tensor: for new_cases()
from recorded import TENSOR, Recorded
from tensors import dumps_compact

FILE = "losses_errors.json"
dumps = dumps_compact

W = TENSOR  # a weight or posWeight of the shape the case name describes

# Shared by NLLLoss and CrossEntropyLoss: (name, options).
CLASS_INDEX_ERRORS = [
    ("target out of range (=C)", {}),
    ("target out of range (C+3)/weight+ignore", {"weight": W, "ignoreIndex": 0, "reduction": "sum"}),
    ("negative target -1 with default ignoreIndex", {}),
    ("negative target -2 with ignoreIndex=-1", {"ignoreIndex": -1}),
    ("batch size mismatch", {}),
    ("batch size mismatch (target longer)", {"reduction": "none"}),
    ("1d input scalar target out of range", {}),
    ("Kdim target out of range", {}),
    ("Kdim target shape mismatch", {}),
    ("weight of wrong length (C-1)", {"weight": W}),
    ("weight of wrong length (C+1)", {"weight": W, "reduction": "none"}),
    ("invalid reduction", {"reduction": "average"}),
]

TARGET_TYPE_ERRORS = [
    ("nn.NLLLoss", "float target where int64 expected", {}),
    ("nn.NLLLoss", "float64 target where int64 expected", {}),
    ("nn.NLLLoss", "1d input with 1d target", {}),
    ("nn.CrossEntropyLoss", "float target of shape (N,) (treated as class indices)", {}),
    ("nn.CrossEntropyLoss", "soft target with wrong shape (N,C+1)", {}),
    ("nn.CrossEntropyLoss", "soft target with wrong shape (N-1,C)", {}),
    ("nn.CrossEntropyLoss", "soft target with wrong shape (C,) for (N,C) input", {}),
    ("nn.CrossEntropyLoss", "int64 target with input shape", {}),
    ("nn.CrossEntropyLoss", "soft target with weight of wrong length", {"weight": W}),
    ("nn.CrossEntropyLoss", "soft target with ignoreIndex", {"ignoreIndex": 1}),
    ("nn.CrossEntropyLoss", "labelSmoothing > 1", {"labelSmoothing": 1.5}),
    ("nn.CrossEntropyLoss", "target out of range with labelSmoothing", {"labelSmoothing": 0.1}),
]

BINARY_ERRORS = [
    ("nn.BCELoss", "input > 1", {}),
    ("nn.BCELoss", "input < 0", {"reduction": "sum"}),
    ("nn.BCELoss", "input > 1 float64", {}),
    ("nn.BCELoss", "target (N,1) vs input (N,C)", {}),
    ("nn.BCELoss", "target (N,) vs input (N,C)", {}),
    ("nn.BCELoss", "target (N+1,C) vs input (N,C)", {}),
    ("nn.BCELoss", "weight not broadcastable", {"weight": W}),
    ("nn.BCEWithLogitsLoss", "target (N,1) vs input (N,C)", {}),
    ("nn.BCEWithLogitsLoss", "target (C,N) vs input (N,C)", {}),
    ("nn.BCEWithLogitsLoss", "weight not broadcastable", {"weight": W}),
    ("nn.BCEWithLogitsLoss", "posWeight not broadcastable", {"posWeight": W}),
    ("nn.BCEWithLogitsLoss", "posWeight (C,) over (N,C,L)", {"posWeight": W}),
]


def definitions():
    """(op, id, options) of every case, in file order."""
    rows = []
    for module in ["NLLLoss", "CrossEntropyLoss"]:
        rows += [("nn." + module, f"{module}/{name}", opts) for name, opts in CLASS_INDEX_ERRORS]
    for op, name, opts in TARGET_TYPE_ERRORS + BINARY_ERRORS:
        rows.append((op, f"{op[3:]}/{name}", opts))
    return rows


def new_cases():
    """Cases added after the recorded ones, with inputs built here. E.g.
    Case("NLLLoss/target out of range (C+1)", "nn.NLLLoss",
         [seeded_randn("NLLLoss/target out of range (C+1)", 4, 5, requires_grad=True),
          tensor([0, 6, 2, 2], "int64")])
    """
    return []


def build():
    data = Recorded("losses_errors")
    recorded = [
        Case(case_id, op, data.inputs(case_id), options=data.options(case_id, opts))
        for op, case_id, opts in definitions()
    ]
    return [run(case) for case in recorded + new_cases()]
