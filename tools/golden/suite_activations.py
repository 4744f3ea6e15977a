"""activations.json: Softmax, LogSoftmax and Sigmoid modules over dims and extreme values."""

from cases import SEEDED, Case, run, seeded_randn  # SEEDED, seeded_randn: for new_cases()
from recorded import Recorded
from tensors import dumps_compact

FILE = "activations.json"
dumps = dumps_compact

# Input kinds: "large50"/"huge1000" put values near +-50/+-1000 (overflow without the
# max-subtraction), "zeros" has ties at 0, "wide" spreads values over several units.
SOFTMAX_KINDS = ["normal", "large50", "huge1000", "zeros"]
SIGMOID_KINDS = SOFTMAX_KINDS + ["wide"]
SHAPES = ["2d", "3d"]  # (3, 5) and (2, 3, 4)
DIMS = [0, 1, -1]


def softmax_like(module):
    """(id, args) of nn.Softmax or nn.LogSoftmax cases, in file order."""
    rows = []
    for shape in SHAPES:
        for dim in DIMS:
            for kind in SOFTMAX_KINDS:
                rows.append((f"{module}/{shape}/dim={dim}/{kind}", [dim]))
    rows += [
        (f"{module}/1d/dim=0", [0]),
        (f"{module}/1d/dim=-1", [-1]),
        (f"{module}/2d/dim=1/normal/float64", [1]),
        (f"{module}/2d/dim=1/huge1000/float64", [1]),
        (f"{module}/2d/dim=-1/masked-inf", [-1]),  # rows with -inf entries
    ]
    return rows


def sigmoid():
    rows = []
    for shape in ["1d", "2d", "3d"]:
        for kind in SIGMOID_KINDS:
            rows.append((f"Sigmoid/{shape}/{kind}", []))
    rows += [("Sigmoid/2d/normal/float64", []), ("Sigmoid/2d/huge1000/float64", [])]
    return rows


def definitions():
    """(module, id, args) of every case in file order; inputs come from the recording."""
    rows = []
    for module in ["Softmax", "LogSoftmax"]:
        rows += [(module, case_id, args) for case_id, args in softmax_like(module)]
    rows += [("Sigmoid", case_id, args) for case_id, args in sigmoid()]
    return rows


def new_cases():
    """Cases added after the recorded ones, with inputs built here. E.g.
    Case("Softmax/4d/dim=2/seeded", "nn.Softmax",
         [seeded_randn("Softmax/4d/dim=2/seeded", 2, 3, 4, 5, requires_grad=True)],
         args=[2], upstream=SEEDED)
    """
    return []


def build():
    data = Recorded("activations")
    recorded = [
        Case(case_id, "nn." + module, data.inputs(case_id), args=args, upstream=data.upstream(case_id))
        for module, case_id, args in definitions()
    ]
    return [run(case) for case in recorded + new_cases()]
