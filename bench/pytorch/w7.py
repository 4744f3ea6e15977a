"""W7 for PyTorch 1.13 on one thread: the small-model training runs of bench/w7-small-models.ts.

Usage: python3 bench/pytorch/w7.py INPUTS.json  (written by the bench; prints JSON on stdout).

Each spec is trained exactly as torchlet and tfjs train it (same inputs, same initial weights,
same optimizer), and timed as a whole run of its steps: the weights are reset and a fresh
optimizer is made before each run, outside the timing; `warmup` untimed runs, then the median of
`runs` timed ones. The losses, the first step's gradients and the final weights go back for the
bench's agreement check.
"""
import json
import statistics
import sys
import time

import torch

torch.set_num_threads(1)


def initial_values(spec, sizes):
    """The initial weights, concatenated, cut into pieces of the given sizes (in order)."""
    flat = [v for w in spec["init"] for v in w]
    out, at = [], 0
    for n in sizes:
        out.append(torch.tensor(flat[at : at + n], dtype=torch.float32))
        at += n
    return out


def make_optimizer(spec, params):
    o = spec["optimizer"]
    if o["kind"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"])
    return torch.optim.Adam(params, lr=o["lr"])


def mlp(spec):
    """nn.Sequential(Linear, Tanh, Linear, ...), F.mse_loss: returns the parameters and the loss of a step."""
    sizes, batch = spec["sizes"], spec["batch"]
    layers = []
    for l in range(1, len(sizes)):
        if l > 1:
            layers.append(torch.nn.Tanh())
        layers.append(torch.nn.Linear(sizes[l - 1], sizes[l]))
    model = torch.nn.Sequential(*layers)
    xs = [torch.tensor(x, dtype=torch.float32).reshape(batch, sizes[0]) for x in spec["inputs"]]
    ys = [torch.tensor(y, dtype=torch.float32).reshape(batch, 1) for y in spec["targets"]]
    return list(model.parameters()), lambda s: torch.nn.functional.mse_loss(model(xs[s]), ys[s])


def scalar_graph(spec):
    """The MLP of 0-d tensors, one multiply or add at a time, in the bench's order (micrograd's)."""
    sizes, batch = spec["sizes"], spec["batch"]
    leaf = lambda: torch.zeros((), requires_grad=True)
    layers = [
        ([[leaf() for _ in range(sizes[l - 1])] for _ in range(sizes[l])], [leaf() for _ in range(sizes[l])])
        for l in range(1, len(sizes))
    ]
    params = [p for w, b in layers for p in [*[v for row in w for v in row], *b]]
    inF = sizes[0]
    xs = [[[torch.tensor(x[r * inF + i]) for i in range(inF)] for r in range(batch)] for x in spec["inputs"]]
    ys = [[torch.tensor(v) for v in y] for y in spec["targets"]]
    inv_batch = torch.tensor(1 / batch)

    def loss(s):
        total = None
        for x, y in zip(xs[s], ys[s]):
            h = x
            for l, (w, b) in enumerate(layers):
                out = []
                for j, row in enumerate(w):
                    acc = b[j]
                    for i in range(len(row)):
                        acc = acc + row[i] * h[i]
                    out.append(torch.tanh(acc) if l < len(layers) - 1 else acc)
                h = out
            d = h[0] - y
            sq = d * d
            total = sq if total is None else total + sq
        return total * inv_batch

    return params, loss


def run(spec, warmup, runs):
    params, loss = (scalar_graph if spec["scalar"] else mlp)(spec)
    initial = initial_values(spec, [p.numel() for p in params])
    state = {}

    def reset():
        with torch.no_grad():
            for p, v in zip(params, initial):
                p.copy_(v.reshape(p.shape))
                p.grad = None
        state["opt"] = make_optimizer(spec, params)

    def train():
        opt = state["opt"]
        for s in range(spec["steps"]):
            opt.zero_grad(set_to_none=True)
            loss(s).backward()
            opt.step()

    reset()
    opt = state["opt"]
    losses, grads = [], []
    for s in range(spec["steps"]):
        opt.zero_grad(set_to_none=True)
        value = loss(s)
        value.backward()
        if s == 0:
            grads = [v for p in params for v in p.grad.reshape(-1).tolist()]
        opt.step()
        losses.append(value.item())
    final = [v for p in params for v in p.detach().reshape(-1).tolist()]

    samples, cpu = [], []
    for i in range(warmup + runs):
        reset()
        cpu_started = time.process_time()
        started = time.perf_counter()
        train()
        ms = (time.perf_counter() - started) * 1000
        cpu_ms = (time.process_time() - cpu_started) * 1000
        if i >= warmup:
            samples.append(ms)
            cpu.append(cpu_ms)
    return {
        "median": statistics.median(samples),
        "samples": samples,
        "cpuMedian": statistics.median(cpu),
        "losses": losses,
        "grads": grads,
        "params": final,
    }


def main():
    with open(sys.argv[1]) as f:
        inputs = json.load(f)
    results = {spec["key"]: run(spec, inputs["warmup"], inputs["runs"]) for spec in inputs["specs"]}
    json.dump({"version": torch.__version__, "threads": torch.get_num_threads(), "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
