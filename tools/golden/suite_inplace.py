"""inplace.json: chains with in-place ops, and the version-counter error at backward.

Every case is a chain on a recorded x (requires grad): a first out-of-place step makes a
non-leaf that the in-place step may change. The version errors change a tensor that the
previous op saved for its backward, so backward raises ("phase": "backward").
"""

from cases import run
from recorded import Recorded
from second_round import Row, numbered_cases, owner_inputs, step
from tensors import dumps_compact

FILE = "inplace.json"
dumps = dumps_compact

FIRST_NUMBER = 141  # after ops2.json's errors in errors2.json; its leaf errors follow (161-162)

# The second operand B of the chains that take one, recorded with the first case using it.
B_OWNER = "mul_tensor"


def x_then(operand):
    """The case's recorded x, then operand(B) as input 1 (without grad)."""
    def inputs(rec, case_id):
        x = rec.inputs(case_id)[0].requires_grad_(True)
        return [x, operand(owner_inputs(rec, B_OWNER)[1])]
    return inputs


def x_only(rec, case_id):
    return [rec.inputs(case_id)[0].requires_grad_(True)]


def chain(name, *steps, inputs=x_only, upstream=None):
    return Row(name, "chain", inputs=inputs, steps=list(steps), upstream=upstream)


ON_B = x_then(lambda b: b)

CHAINS = [
    chain("mul+add_+exp", step("mul", 2.0), step("add_", 1.5), step("exp")),
    chain("mul_tensor", step("mul", 1.0), step("mul_", extra=[1]), step("sum"), inputs=ON_B),
    # |B| + 0.5 keeps the divisor away from zero.
    chain("div_", step("add", 0.0), step("div_", extra=[1]), inputs=x_then(lambda b: b.abs() + 0.5)),
    chain("sub_+pow", step("mul", 3.0), step("sub_", 0.5), step("pow", 2.0)),
    chain("zero_", step("mul", 2.0), step("zero_"), step("add", 1.0)),
    chain("fill_", step("mul", 2.0), step("fill_", 3.0)),
    chain("clamp_", step("mul", 3.0), step("clamp_", -1.0, 1.0)),
    chain("neg_", step("mul", 0.5), step("neg_"), step("sigmoid")),
    chain("exp_", step("mul", 0.5), step("exp_")),
    chain("copy_", step("mul", 1.0), step("copy_", extra=[1]), step("mul", 2.0), inputs=ON_B),
    chain("pow_then_add_", step("pow", 2.0), step("add_", 1.0)),
    chain("maskedFill_", step("mul", 1.0), step("maskedFill_", 0.0, extra=[1]), inputs=x_then(lambda b: b > 0)),
    chain("indexPut_", step("mul", 2.0), step("indexPut_", [0, ":"], 5.0)),
    chain("indexPut_/slice", step("mul", 2.0), step("indexPut_", [":", "1:3"], -1.0), step("tanh")),
    chain("twice", step("mul", 1.5), step("add_", 1.0), step("mul_", 2.0), step("log")),
]

# Each op saves its output for its backward; add_ then changes that output.
VERSION_ERRORS = [chain(f"versionError/{op}", step(op), step("add_", 1.0))
                  for op in ["exp", "sigmoid", "tanh", "relu", "sqrt"]]


# Chains added later, inputs built in code: after the others, so that their numbers stay.
NEW_CHAINS = []


def build():
    cases = numbered_cases(CHAINS + VERSION_ERRORS + NEW_CHAINS, Recorded("inplace"), FIRST_NUMBER)
    return [run(case) for case in cases]
