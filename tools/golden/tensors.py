"""Tensor <-> JSON encoding shared by every golden file.

A tensor is {"shape": [...], "dtype": ..., "data": [...]} with flat row-major data.
Non-finite floats are the strings "nan", "inf", "-inf" because JSON has no literal for them.
"""

import json
import math

import numpy as np
import torch

DTYPES = {
    "float32": torch.float32,
    "float64": torch.float64,
    "int64": torch.int64,
    "bool": torch.bool,
}
DTYPE_NAMES = {dtype: name for name, dtype in DTYPES.items()}


def _non_finite(x):
    if math.isnan(x):
        return "nan"
    return "inf" if x > 0 else "-inf"


def _float32_value(x):
    """The shortest decimal that parses back to the same float32.

    numpy prints a float32 with the fewest digits that round-trip; going through
    float() lets json write it back with exactly those digits.
    """
    if not math.isfinite(x):
        return _non_finite(x)
    return float(str(np.float32(x)))


def _float64_value(x):
    # json writes a Python float with repr, the shortest string that round-trips a double.
    return float(x) if math.isfinite(x) else _non_finite(x)


def encode_data(t, exact=False):
    """Flat data list of tensor t in the golden encoding.

    exact=True is printing.json's older style: float32 values as the double they convert to
    instead of the shortest float32 decimal, and bools as 1/0 instead of true/false.
    """
    flat = t.detach().cpu().reshape(-1).tolist()
    if t.dtype == torch.float32 and not exact:
        return [_float32_value(x) for x in flat]
    if t.dtype in (torch.float32, torch.float64):
        return [_float64_value(x) for x in flat]
    if t.dtype == torch.bool:
        return [int(x) for x in flat] if exact else flat
    return flat


def encode(t, requires_grad=None, exact=False):
    """Tensor t as a golden tensor dict, with "requiresGrad" when it is given."""
    out = {
        "shape": list(t.shape),
        "dtype": DTYPE_NAMES[t.dtype],
        "data": encode_data(t, exact=exact),
    }
    if requires_grad is not None:
        out["requiresGrad"] = requires_grad
    return out


def encode_scalar32(x):
    """A Python float computed in float32 (e.g. loss.item()) in the float32 encoding."""
    return _float32_value(x)


def _decode_value(v):
    if isinstance(v, str):
        return float(v)  # "nan", "inf", "-inf"
    return v


def decode(d):
    """A fresh leaf tensor from a golden tensor dict; honours "requiresGrad" when present."""
    dtype = DTYPES[d["dtype"]]
    values = [_decode_value(v) for v in d["data"]]
    # clone: reshape gives a view, and PyTorch words in-place errors on a view differently.
    t = torch.tensor(values, dtype=dtype).reshape(d["shape"]).clone()
    if d.get("requiresGrad"):
        t.requires_grad_(True)
    return t


def is_tensor_dict(v):
    return isinstance(v, dict) and "shape" in v and "dtype" in v and "data" in v


def dumps_compact(obj):
    """The layout of every golden file except printing.json: one line, no spaces."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False) + "\n"


def dumps_indented(obj):
    """printing.json's layout: indent 1, no trailing newline."""
    return json.dumps(obj, indent=1, allow_nan=False)
