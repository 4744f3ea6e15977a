#!/usr/bin/python3
"""Regenerate the PyTorch golden files of tests/fixtures/pytorch from PyTorch 1.13.

Usage: /usr/bin/python3 tools/golden/generate.py [--out DIR] [--only FILE...]

Each file has a suite module (suite_*.py) that defines its cases and runs them through
PyTorch; this script only picks the suites and writes their files.
"""

import argparse
import os
import sys

import torch

import suite_activations
import suite_autograd_functional
import suite_double_backward
import suite_errors2
import suite_inplace
import suite_losses
import suite_losses2
import suite_losses_errors
import suite_ops
import suite_ops2
import suite_optim_errors
import suite_optimizers
import suite_printing
import suite_seed
import suite_training

GENERATOR = "PyTorch 1.13.0a0"  # the version string every file carries
SUITES = [
    suite_activations,
    suite_autograd_functional,
    suite_double_backward,
    suite_errors2,
    suite_inplace,
    suite_losses,
    suite_losses2,
    suite_losses_errors,
    suite_ops,
    suite_ops2,
    suite_optim_errors,
    suite_optimizers,
    suite_printing,
    suite_seed,
    suite_training,
]
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "tests", "fixtures", "pytorch")


def parse_args(argv):
    names = [s.FILE for s in SUITES]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT, help="output directory (default: %(default)s)")
    p.add_argument("--only", nargs="+", metavar="FILE", choices=names,
                   help="write only these files, e.g. --only ops.json losses.json")
    return p.parse_args(argv)


def check_torch():
    # Other versions name grad_fns and word errors differently: warn rather than refuse,
    # so a newer PyTorch can still be used to look at differences.
    if not torch.__version__.startswith("1.13"):
        print(f"warning: PyTorch {torch.__version__} is not 1.13; results will differ", file=sys.stderr)


def write_suite(suite, out_dir):
    # Single-threaded, so reductions add in one fixed order whatever the machine.
    torch.set_num_threads(1)
    document = {"generator": GENERATOR, "cases": suite.build()}
    path = os.path.join(out_dir, suite.FILE)
    with open(path, "w") as f:
        f.write(suite.dumps(document))
    return path, len(document["cases"])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    check_torch()
    os.makedirs(args.out, exist_ok=True)
    for suite in SUITES:
        if args.only and suite.FILE not in args.only:
            continue
        path, count = write_suite(suite, args.out)
        print(f"{path}: {count} cases")


if __name__ == "__main__":
    main()
