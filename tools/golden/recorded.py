"""Access to the recorded inputs in tools/golden/recorded/*.json.

The first generator drew most inputs at random and its seeds are lost, so the values it
drew are kept as data, keyed by case id (training: by setup). The second-round files
(ops2, inplace, double_backward, losses2, errors2) record only their random tensors, each
once: a case that reuses another case's tensors reads them under that case's id. New
cases should not add entries here: build their inputs in the suite, e.g. with
cases.seeded_randn().
"""

import json
import os

from tensors import decode

RECORDED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recorded")

# Stands for a tensor-valued option (weight, posWeight) whose values are recorded.
TENSOR = "<recorded tensor>"


class Recorded:
    def __init__(self, name):
        with open(os.path.join(RECORDED_DIR, name + ".json")) as f:
            self.entries = json.load(f)["entries"]

    def raw(self, key):
        if key not in self.entries:
            raise KeyError(f"nothing recorded for {key!r}: a new case builds its inputs in code "
                           "(see new_cases() in its suite)")
        return self.entries[key]

    def inputs(self, key):
        """Fresh leaf tensors (requires_grad as recorded), so each run starts with no grads."""
        return self.tensors(key, "inputs")

    def tensors(self, key, name):
        """The recorded list `name` of key ("inputs", double_backward's "v") as fresh tensors."""
        return [decode(d) for d in self.raw(key)[name]]

    def upstream(self, key):
        d = self.raw(key).get("upstream")
        return None if d is None else decode(d)

    def option(self, key, name):
        return decode(self.raw(key)["options"][name])

    def options(self, key, options):
        """options with every TENSOR placeholder replaced by its recorded tensor, order kept."""
        return {k: self.option(key, k) if v == TENSOR else v for k, v in options.items()}
