"""seed.json: the worked examples the project is built from, with their literal inputs."""

import torch

from cases import Case, run
from recorded import Recorded
from tensors import dumps_compact

FILE = "seed.json"
dumps = dumps_compact

LOGITS = [[0.3, 0.4, 0.3], [0.7, 0.1, 0.2]]
LOGITS_TARGET = [0, 2]
BINARY_LOGITS = [[0.8, 0.2], [0.1, 0.9], [0.6, 0.4]]
BINARY_TARGET = [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]]
LOGITS2 = [[0.1, 0.2, 0.7], [0.4, 0.5, 0.1]]
LOGITS2_TARGET = [2, 1]
LOGITS2_ONE_HOT = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
BINARY2 = [[0.6, 0.4], [0.3, 0.7]]
BINARY2_TARGET = [0, 1]
ONE_D = [0.6, 0.3]
ONE_D_TARGET = [0.0, 1.0]

NOTE = "notes print {:.4f}"  # the value the project's notes quote, to 4 decimals

NONE = {"reduction": "none"}
SOFTMAX1 = {"op": "nn.Softmax", "args": [1], "options": {}}
LOG_SOFTMAX1 = {"op": "nn.LogSoftmax", "args": [1], "options": {}}
LOG = {"op": "log", "args": [], "options": {}}
NLL_NONE = {"op": "nn.NLLLoss", "args": [], "options": NONE, "extraInputs": [1]}


def logits(values):
    return torch.tensor(values, requires_grad=True)


def classes(values):
    return torch.tensor(values, dtype=torch.int64)


def floats(values):
    return torch.tensor(values)


def definitions():
    """(id, op, args, options, inputs, steps, note) of every seed case, in file order."""
    x, t = LOGITS, LOGITS_TARGET
    b, bt = BINARY_LOGITS, BINARY_TARGET
    x2 = LOGITS2
    return [
        ("seed/logits/log(softmax)", "chain", [], {}, [logits(x)], [SOFTMAX1, LOG], None),
        ("seed/logits/LogSoftmax(dim=1)", "nn.LogSoftmax", [1], {}, [logits(x)], None, None),
        ("seed/logits/Softmax(dim=1)", "nn.Softmax", [1], {}, [logits(x)], None, None),
        ("seed/logits/LogSoftmax+NLLLoss(none)", "chain", [], {}, [logits(x), classes(t)],
         [LOG_SOFTMAX1, NLL_NONE], None),
        ("seed/logits/log(softmax)+NLLLoss(none)", "chain", [], {}, [logits(x), classes(t)],
         [SOFTMAX1, LOG, NLL_NONE], None),
        ("seed/logits/NLLLoss(none) on raw logits", "nn.NLLLoss", [], NONE, [logits(x), classes(t)], None, None),
        ("seed/logits/CrossEntropyLoss(none)", "nn.CrossEntropyLoss", [], NONE, [logits(x), classes(t)], None, None),
        ("seed/binary_logits/Sigmoid", "nn.Sigmoid", [], {}, [logits(b)], None, None),
        ("seed/binary_logits/Sigmoid+BCELoss(none)", "chain", [], {}, [logits(b), floats(bt)],
         [{"op": "nn.Sigmoid", "args": [], "options": {}},
          {"op": "nn.BCELoss", "args": [], "options": NONE, "extraInputs": [1]}], None),
        ("seed/binary_logits/BCEWithLogitsLoss(none)", "nn.BCEWithLogitsLoss", [], NONE,
         [logits(b), floats(bt)], None, None),
        ("seed/logits2/CrossEntropyLoss()", "nn.CrossEntropyLoss", [], {},
         [logits(x2), classes(LOGITS2_TARGET)], None, NOTE),
        ("seed/logits2/CrossEntropyLoss(none)", "nn.CrossEntropyLoss", [], NONE,
         [logits(x2), classes(LOGITS2_TARGET)], None, None),
        ("seed/logits2/one-hot/BCEWithLogitsLoss()", "nn.BCEWithLogitsLoss", [], {},
         [logits(x2), floats(LOGITS2_ONE_HOT)], None, NOTE),
        ("seed/logits2/one-hot/BCEWithLogitsLoss(none)", "nn.BCEWithLogitsLoss", [], NONE,
         [logits(x2), floats(LOGITS2_ONE_HOT)], None, None),
        ("seed/binary2/CrossEntropyLoss()", "nn.CrossEntropyLoss", [], {},
         [logits(BINARY2), classes(BINARY2_TARGET)], None, NOTE),
        ("seed/1d/BCEWithLogitsLoss()", "nn.BCEWithLogitsLoss", [], {},
         [logits(ONE_D), floats(ONE_D_TARGET)], None, NOTE),
    ]


def build():
    upstreams = Recorded("seed")  # the upstream gradients were drawn at random
    records = []
    for case_id, op, args, options, inputs, steps, note in definitions():
        upstream = upstreams.upstream(case_id) if case_id in upstreams.entries else None  # 0-d outputs
        case = Case(case_id, op, inputs, args=args, options=dict(options), upstream=upstream,
                    steps=steps, note=note)
        records.append(run(case))
    return records
