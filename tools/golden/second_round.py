"""What the second-round suites (ops2, inplace, double_backward, losses2, errors2) share.

Their generator numbered its cases across all of its files (1-303, errors2.json holding
several ranges), so a case id is the row's name and that global number: "select/17".
Inputs come from the recording (recorded/<file>.json, random tensors only, each recorded
once) or are built here: literal indices, masks and targets, and tensors derived from others.
"""

from dataclasses import dataclass, field

from cases import Case


def with_grad(tensors):
    """Float tensors require grad, so that their gradients are recorded; others cannot."""
    return [t.requires_grad_(t.is_floating_point()) for t in tensors]


def drawn(rec, case_id):
    """The case's recorded tensors as its inputs, the float ones requiring grad."""
    return with_grad(rec.inputs(case_id))


def drawn_without_grad(rec, case_id):
    return rec.inputs(case_id)


def drawn_then(*literals):
    """The case's recorded inputs, then literal ones (indices, masks, targets)."""
    return lambda rec, case_id: drawn(rec, case_id) + list(literals)


def owner_inputs(rec, name):
    """The tensors recorded for the case named name (its id without the number), fresh.

    Cases that ran on the same tensors read them from the first of them, by its name.
    """
    ids = [key for key in rec.entries if key.rsplit("/", 1)[0] == name]
    if len(ids) != 1:
        raise KeyError(f"{name!r} names {len(ids)} recorded cases, not one")
    return rec.inputs(ids[0])


def shared(name):
    """All the inputs recorded for the case named name, the float ones requiring grad."""
    return lambda rec, case_id: with_grad(owner_inputs(rec, name))


def literal(*tensors):
    return lambda rec, case_id: list(tensors)


def step(op, *args, options=None, extra=None):
    """A chain step; extra: the inputs it takes after the chain's value (a loss's target)."""
    record = {"op": op, "args": list(args), "options": options or {}}
    if extra is not None:
        record["extraInputs"] = extra
    return record


@dataclass
class Row:
    name: str  # the case id without its number
    op: str
    args: list = field(default_factory=list)
    options: dict = field(default_factory=dict)
    inputs: object = drawn  # (recorded, case_id) -> the input tensors
    steps: list = None  # "chain" and "gradgrad"
    upstream: object = None  # a new case: SEEDED (cases.py); None: the recorded one, if any


def numbered_cases(rows, rec, first_number):
    """A Case per row, numbered from first_number, with its upstream (the row's or the recorded one)."""
    cases = []
    for number, row in enumerate(rows, start=first_number):
        case_id = f"{row.name}/{number}"
        upstream = row.upstream
        if upstream is None and case_id in rec.entries:
            upstream = rec.upstream(case_id)
        cases.append(Case(case_id, row.op, row.inputs(rec, case_id), args=row.args,
                          options=row.options, upstream=upstream, steps=row.steps))
    return cases
