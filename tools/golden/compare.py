#!/usr/bin/python3
"""Compare regenerated golden files with the committed ones, case by case.

Usage: /usr/bin/python3 tools/golden/compare.py NEW_DIR [OLD_DIR] [--only FILE...]

OLD_DIR defaults to tests/fixtures/pytorch. For every file: the case ids must be the same,
in the same order, and every field must be equal. Tensor values are compared exactly after
rounding to the tensor's dtype (float32 values as float32), NaN equal to NaN. Exit status
is 1 when anything differs, so the script can gate a regeneration.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OLD = os.path.join(REPO, "tests", "fixtures", "pytorch")
FILES = ["activations.json", "double_backward.json", "errors2.json", "inplace.json", "losses.json",
         "losses2.json", "losses_errors.json", "ops.json", "ops2.json", "optim_errors.json",
         "optimizers.json", "printing.json", "seed.json", "training.json"]
# Standalone floats outside tensors computed in float32 (training losses).
FLOAT32_LISTS = {"losses"}


def as_float(v):
    return float(v) if isinstance(v, str) else v  # "nan", "inf", "-inf"


def same_value(a, b, dtype):
    """Equal after rounding to dtype; on a difference also say by how many float32 ulps."""
    if dtype not in ("float32", "float64"):
        return a == b and type(a) is type(b), ""
    x, y = as_float(a), as_float(b)
    if not isinstance(x, (int, float)) or not isinstance(y, (int, float)):
        return False, ""
    if dtype == "float32":
        x, y = np.float32(x), np.float32(y)
    if math.isnan(x) and math.isnan(y):
        return True, ""
    if x == y and math.copysign(1, x) == math.copysign(1, y):
        return True, ""
    if dtype == "float32" and math.isfinite(x) and math.isfinite(y):
        ulps = abs(int(x.view(np.int32)) - int(y.view(np.int32)))
        return False, f" ({ulps} ulp)"
    return False, ""


def is_tensor(v):
    return isinstance(v, dict) and {"shape", "dtype", "data"} <= set(v)


def diff(new, old, path, out):
    """Append a line per difference between two JSON values to out."""
    if is_tensor(new) and is_tensor(old):
        if list(new) != list(old):
            out.append(f"{path}: keys {list(new)} != {list(old)}")
        for key in sorted(set(new) | set(old)):
            if key != "data" and new.get(key) != old.get(key):
                out.append(f"{path}.{key}: {new.get(key)!r} != {old.get(key)!r}")
        if new["shape"] == old["shape"] and new["dtype"] == old["dtype"]:
            for i, (a, b) in enumerate(zip(new["data"], old["data"])):
                ok, note = same_value(a, b, old["dtype"])
                if not ok:
                    out.append(f"{path}.data[{i}]: {a!r} != {b!r}{note}")
        return
    if isinstance(new, dict) and isinstance(old, dict):
        if list(new) != list(old):
            out.append(f"{path}: keys {list(new)} != {list(old)}")
        for key in old:
            if key in new:
                diff(new[key], old[key], f"{path}.{key}", out)
        return
    if isinstance(new, list) and isinstance(old, list):
        if len(new) != len(old):
            out.append(f"{path}: length {len(new)} != {len(old)}")
            return
        dtype = "float32" if path.rsplit(".", 1)[-1] in FLOAT32_LISTS else None
        for i, (a, b) in enumerate(zip(new, old)):
            if dtype:
                ok, note = same_value(a, b, dtype)
                if not ok:
                    out.append(f"{path}[{i}]: {a!r} != {b!r}{note}")
            else:
                diff(a, b, f"{path}[{i}]", out)
        return
    if new != old or type(new) is not type(old):
        out.append(f"{path}: {new!r} != {old!r}")


def compare_file(new_path, old_path):
    """(cases in the old file, cases that match, lines describing differences)."""
    with open(new_path) as f:
        new_text = f.read()
    with open(old_path) as f:
        old_text = f.read()
    new, old = json.loads(new_text), json.loads(old_text)
    problems = []
    if new.get("generator") != old.get("generator"):
        problems.append(f"generator: {new.get('generator')!r} != {old.get('generator')!r}")
    new_cases = {c["id"]: c for c in new["cases"]}
    new_ids, old_ids = [c["id"] for c in new["cases"]], [c["id"] for c in old["cases"]]
    for missing in [i for i in old_ids if i not in new_cases]:
        problems.append(f"missing case {missing}")
    for extra in [i for i in new_ids if i not in set(old_ids)]:
        problems.append(f"extra case {extra}")
    if [i for i in new_ids if i in set(old_ids)] != [i for i in old_ids if i in new_cases]:
        problems.append("cases are in a different order")
    matching = 0
    for case in old["cases"]:
        if case["id"] not in new_cases:
            continue
        case_problems = []
        diff(new_cases[case["id"]], case, case["id"], case_problems)
        matching += not case_problems
        problems += case_problems
    return len(old["cases"]), matching, problems, new_text == old_text


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("new_dir")
    p.add_argument("old_dir", nargs="?", default=DEFAULT_OLD)
    p.add_argument("--only", nargs="+", metavar="FILE", choices=FILES)
    args = p.parse_args(sys.argv[1:] if argv is None else argv)

    failed = False
    for name in args.only or FILES:
        total, matching, problems, identical = compare_file(
            os.path.join(args.new_dir, name), os.path.join(args.old_dir, name))
        status = "byte-identical" if identical else "content differs" if problems else "same content"
        print(f"{name}: {matching}/{total} cases match ({status})")
        for line in problems[:50]:
            print("  " + line)
        if len(problems) > 50:
            print(f"  ... and {len(problems) - 50} more differences")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
