"""losses.json: NLLLoss, CrossEntropyLoss, BCELoss and BCEWithLogitsLoss over every option.

Each section below yields (op, name, options) in file order; the case id is "name/N"
with N counting from 1 over the whole file, so new sections go at the end.
The grid always passes `reduction`, last among the options.
"""

from cases import Case, run, seeded_randn, tensor  # seeded_randn, tensor: for new_cases()
from recorded import TENSOR, Recorded
from tensors import dumps_compact

FILE = "losses.json"
dumps = dumps_compact

W = TENSOR  # a recorded weight / posWeight tensor
REDUCTIONS = ["none", "mean", "sum"]

# Class-index shapes: input (N,C), (C,), (N,C,d1), (N,C,d1,d2); C = 5.
CLASS_SHAPES = ["NC", "C", "NCd1", "NCd1d2"]
# (label, options): targets avoid 1 / use 1 as ignored class / may contain the default -100.
IGNORE_VARIANTS = [
    ("noignore", {}),
    ("ignore=1", {"ignoreIndex": 1}),
    ("defaultIgnore=-100", {}),
]
LABEL_SMOOTHING = [None, 0.1, 0.3]


def with_reductions(op, name, options):
    return [(op, f"{name}/{r}", {**options, "reduction": r}) for r in REDUCTIONS]


def weight_part(weighted):
    return ("+weight", {"weight": W}) if weighted else ("", {})


def ls_part(ls):
    return ("", {}) if ls is None else (f"+ls={ls}", {"labelSmoothing": ls})


def nll_grid():
    rows = []
    for shape in CLASS_SHAPES:
        for ignore, ignore_opts in IGNORE_VARIANTS:
            for weighted in [False, True]:
                w_label, w_opts = weight_part(weighted)
                rows += with_reductions("nn.NLLLoss", f"NLLLoss/{shape}+{ignore}{w_label}",
                                        {**ignore_opts, **w_opts})
    return rows


def cross_entropy_grid():
    rows = []
    for shape in CLASS_SHAPES:
        for ignore, ignore_opts in IGNORE_VARIANTS:
            for weighted in [False, True]:
                w_label, w_opts = weight_part(weighted)
                for ls in LABEL_SMOOTHING:
                    ls_label, ls_opts = ls_part(ls)
                    rows += with_reductions(
                        "nn.CrossEntropyLoss",
                        f"CrossEntropyLoss/{shape}+{ignore}{w_label}{ls_label}",
                        {**ignore_opts, **w_opts, **ls_opts})
    return rows


def all_ignored():
    """Every target equals ignoreIndex: mean gives NaN and a zero gradient."""
    rows = []
    for shape in ["NC", "NCd1"]:
        for weighted in [False, True]:
            w_label, w_opts = weight_part(weighted)
            rows += with_reductions("nn.NLLLoss", f"NLLLoss/{shape}+allIgnored+ignore=1{w_label}",
                                    {"ignoreIndex": 1, **w_opts})
    for ls in [None, 0.1]:
        ls_label, ls_opts = ls_part(ls)
        for shape in ["NC", "NCd1"]:
            for weighted in [False, True]:
                w_label, w_opts = weight_part(weighted)
                rows += with_reductions(
                    "nn.CrossEntropyLoss",
                    f"CrossEntropyLoss/{shape}+allIgnored+ignore=1{w_label}{ls_label}",
                    {"ignoreIndex": 1, **w_opts, **ls_opts})
    return rows


def zero_weighted_targets():
    """The remaining targets all have weight 0: mean gives NaN, and NaN gradients."""
    return [
        (f"nn.{module}", f"{module}/NC/zeroWeightedTargets/{r}", {"weight": W, "reduction": r})
        for module in ["NLLLoss", "CrossEntropyLoss"]
        for r in ["mean", "sum"]
    ]


# Class-probability targets: (shape, label smoothing without weight, with weight).
PROBS_VARIANTS = [("NC", 0.1, 0.3), ("C", 0.3, 0.1), ("NCd1", 0.3, 0.1), ("NCd1d2", 0.1, 0.3)]


def probability_targets():
    rows = []
    for shape, ls_plain, ls_weighted in PROBS_VARIANTS:
        for label, opts in [
            ("", {}),
            (f"+ls={ls_plain}", {"labelSmoothing": ls_plain}),
            ("+weight", {"weight": W}),
            (f"+weight+ls={ls_weighted}", {"weight": W, "labelSmoothing": ls_weighted}),
        ]:
            rows += with_reductions("nn.CrossEntropyLoss", f"CrossEntropyLoss/{shape}+probs{label}", opts)
    # The target requires grad too: its gradient is recorded.
    rows += [("nn.CrossEntropyLoss", f"CrossEntropyLoss/NC/probs+targetGrad/{r}", {"reduction": r})
             for r in ["mean", "none"]]
    return rows


def float64_class_index():
    return [
        (f"nn.{module}", f"{module}/NC/weight/float64/{r}", {"weight": W, "reduction": r})
        for module in ["NLLLoss", "CrossEntropyLoss"]
        for r in ["mean", "none"]
    ]


# BCELoss weights by input shape: (label, options).
BCE_WEIGHTS = {
    "NC": [("noweight", {}), ("w=C", {"weight": W}), ("w=Nx1", {"weight": W}), ("w=full", {"weight": W})],
    "N": [("noweight", {}), ("w=N", {"weight": W}), ("w=1", {"weight": W})],
    "NCL": [("noweight", {}), ("w=Cx1", {"weight": W}), ("w=L", {"weight": W})],
}
# Targets alternate case by case between exact 0/1 values and soft values in (0, 1).
BCE_TARGETS = ["edges01", "soft"]


def bce():
    rows = []
    for shape, weights in BCE_WEIGHTS.items():
        for label, opts in weights:
            for r in REDUCTIONS:
                target = BCE_TARGETS[len(rows) % 2]
                rows.append(("nn.BCELoss", f"BCELoss/{shape}/{label}+{target}/{r}", {**opts, "reduction": r}))
    # Inputs exactly 0 and 1: the logs are clamped at -100.
    for dtype in ["float32", "float64"]:
        rows += with_reductions("nn.BCELoss", f"BCELoss/exact0and1/{dtype}", {})
    rows += with_reductions("nn.BCELoss", "BCELoss/NC/noweight+edges01/float64", {})
    rows += with_reductions("nn.BCELoss", "BCELoss/NC/w=C+edges01/float64", {"weight": W})
    rows += [("nn.BCELoss", f"BCELoss/NC/soft+targetGrad/{r}", {"reduction": r}) for r in ["mean", "none"]]
    return rows


# BCEWithLogitsLoss weight / posWeight by input shape; posWeight broadcasts on the last dim.
BCE_LOGITS_WEIGHTS = {
    "NC": [("", {}), ("+pw=C", {"posWeight": W}), ("+w=C", {"weight": W}),
           ("+w=C+pw=C", {"weight": W, "posWeight": W})],
    "N": [("", {}), ("+pw=1", {"posWeight": W}), ("+w=N", {"weight": W}),
          ("+w=N+pw=1", {"weight": W, "posWeight": W})],
    "NCL": [("", {}), ("+pw=Cx1", {"posWeight": W}), ("+w=Cx1", {"weight": W}),
            ("+w=Cx1+pw=Cx1", {"weight": W, "posWeight": W})],
}
# Logit kinds cycle case by case (see activations.json for what each kind means).
LOGIT_KINDS = ["huge1000", "zeros", "normal", "large50"]


def bce_with_logits():
    rows = []
    for shape, weights in BCE_LOGITS_WEIGHTS.items():
        for label, opts in weights:
            for r in REDUCTIONS:
                kind = LOGIT_KINDS[len(rows) % len(LOGIT_KINDS)]
                rows.append(("nn.BCEWithLogitsLoss", f"BCEWithLogitsLoss/{shape}{label}/{kind}/{r}",
                             {**opts, "reduction": r}))
    rows += with_reductions("nn.BCEWithLogitsLoss", "BCEWithLogitsLoss/NC/pw=C/float64", {"posWeight": W})
    rows += [("nn.BCEWithLogitsLoss", f"BCEWithLogitsLoss/NC/pw=C/soft+targetGrad/{r}",
              {"posWeight": W, "reduction": r}) for r in ["mean", "none"]]
    return rows


def rows():
    """(op, name, options) of every case, in file order."""
    return (nll_grid() + cross_entropy_grid() + all_ignored() + zero_weighted_targets()
            + probability_targets() + float64_class_index() + bce() + bce_with_logits())


def new_cases():
    """Cases added after the recorded ones, inputs built here; their ids get "/N" appended. E.g.
    Case("NLLLoss/NC+seeded/mean", "nn.NLLLoss",
         [seeded_randn("NLLLoss/NC+seeded", 4, 5, requires_grad=True), tensor([0, 3, 1, 4], "int64")],
         options={"reduction": "mean"})
    """
    return []


def build():
    data = Recorded("losses")
    records = []
    for n, (op, name, options) in enumerate(rows(), start=1):
        case_id = f"{name}/{n}"
        case = Case(case_id, op, data.inputs(case_id), options=data.options(case_id, options),
                    upstream=data.upstream(case_id))
        records.append(run(case))
    for n, case in enumerate(new_cases(), start=len(records) + 1):
        case.id = f"{case.id}/{n}"
        records.append(run(case))
    return records
