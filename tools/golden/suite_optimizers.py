"""optimizers.json: Adam, AdamW, RMSprop and Adagrad training runs, and schedules alone.

Training runs ("train") fit the same Linear model with CrossEntropyLoss over the same batches
(recorded/optimizers.json: initial parameters, data set, batches), each with one optimizer and
optionally a learning-rate scheduler stepped after every optimizer step. Schedules
("schedule") step a scheduler over SGD on a parameter without a gradient and record the rate.
"""

import json
import re

import torch

from recorded import Recorded
from suite_training import LinearModel
from tensors import decode, dumps_compact, encode, encode_scalar32

FILE = "optimizers.json"
dumps = dumps_compact

# The second-round generator numbered its cases across all its files; this file holds 278-299.
FIRST_NUMBER = 278

# (optimizer, camelCase options, scheduler or None): a scheduler is (type, options).
TRAIN_RUNS = [
    ("Adam", {"lr": 0.01}, None),
    ("Adam", {"lr": 0.02, "betas": [0.8, 0.99], "weightDecay": 0.01}, None),
    ("Adam", {"lr": 0.01, "amsgrad": True}, None),
    ("Adam", {"lr": 0.01, "maximize": True}, None),
    ("AdamW", {"lr": 0.01}, None),
    ("AdamW", {"lr": 0.02, "weightDecay": 0.1, "amsgrad": True}, None),
    ("RMSprop", {"lr": 0.01}, None),
    ("RMSprop", {"lr": 0.005, "momentum": 0.9, "centered": True}, None),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "weightDecay": 0.01}, None),
    ("Adagrad", {"lr": 0.1}, None),
    ("Adagrad", {"lr": 0.1, "lrDecay": 0.01, "weightDecay": 0.01, "initialAccumulatorValue": 0.1}, None),
    ("Adam", {"lr": 0.01}, ("CosineAnnealingLR", {"tMax": 10})),
    ("Adam", {"lr": 0.01}, ("ExponentialLR", {"gamma": 0.9})),
    ("Adam", {"lr": 0.01}, ("MultiStepLR", {"milestones": [5, 12], "gamma": 0.5})),
]

# Every schedule drives this optimizer: momentum gives OneCycleLR something to cycle.
SCHEDULE_OPTIM = ("SGD", {"lr": 0.1, "momentum": 0.9})
SCHEDULE_STEPS = 12
# ReduceLROnPlateau's metric per step: an improvement, a plateau, a drop, another plateau.
PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.55, 0.56, 0.6, 0.61, 0.62, 0.63]

# (scheduler, camelCase options)
SCHEDULES = [
    ("StepLR", {"stepSize": 3, "gamma": 0.5}),
    ("MultiStepLR", {"milestones": [2, 5, 6], "gamma": 0.3}),
    ("ExponentialLR", {"gamma": 0.7}),
    ("CosineAnnealingLR", {"tMax": 6, "etaMin": 0.01}),
    ("LinearLR", {"startFactor": 0.25, "totalIters": 5}),
    ("OneCycleLR", {"maxLr": 1.0, "totalSteps": 12}),
    ("OneCycleLR", {"maxLr": 0.5, "totalSteps": 12, "annealStrategy": "linear", "pctStart": 0.4}),
    ("ReduceLROnPlateau", {"factor": 0.5, "patience": 1}),
]

# Keyword names that are not the snake_case of the camelCase option.
KEYWORDS = {"tMax": "T_max"}


def keyword(name):
    return KEYWORDS.get(name) or re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def kwargs(options):
    return {keyword(k): v for k, v in options.items()}


def make_optimizer(name, params, options):
    return getattr(torch.optim, name)(params, **kwargs(options))


def make_scheduler(name, optimizer, options):
    return getattr(torch.optim.lr_scheduler, name)(optimizer, **kwargs(options))


def case_id(kind, name, options, number, scheduler=None):
    parts = [kind, name, json.dumps(options)] + ([scheduler] if scheduler else []) + [str(number)]
    return "/".join(parts)


def train_case(rec, number, optim_name, options, scheduler):
    weight, bias = decode(rec["weight"]), decode(rec["bias"])  # fresh for every run
    model = LinearModel(weight, bias, rec["data"])
    y = decode(rec["data"]["y"])
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = make_optimizer(optim_name, model.params(), options)
    sched = make_scheduler(scheduler[0], optimizer, scheduler[1]) if scheduler else None
    losses, lrs = [], []
    for batch in rec["batches"]:
        optimizer.zero_grad()
        loss = loss_fn(model.forward(batch), y[batch])
        losses.append(encode_scalar32(loss.item()))  # the loss before this step's update
        loss.backward()
        optimizer.step()
        if sched:
            sched.step()
            lrs.append(sched.get_last_lr()[0])
    record = {
        "id": case_id("train", optim_name, options, number, scheduler and scheduler[0]),
        "op": "train",
        "model": model.describe(weight, bias),
        "data": model.data_json(y),
        "loss": {"op": "nn.CrossEntropyLoss", "options": {}},
        "optim": {"type": optim_name, "options": options},
        "batches": rec["batches"],
        "losses": losses,
        "final": {"weight": encode(model.module.weight.detach()), "bias": encode(model.module.bias.detach())},
    }
    if sched:
        record.update(scheduler={"type": scheduler[0], "options": scheduler[1]}, lrs=lrs)
    return record


def schedule_case(number, name, options):
    optim_name, optim_options = SCHEDULE_OPTIM
    optimizer = make_optimizer(optim_name, [torch.zeros(2, requires_grad=True)], optim_options)
    scheduler = make_scheduler(name, optimizer, options)
    plateau = name == "ReduceLROnPlateau"
    # OneCycleLR's constructor takes step 0 and its cycle ends at step totalSteps - 1.
    steps = options["totalSteps"] - 1 if name == "OneCycleLR" else SCHEDULE_STEPS
    lrs = []
    for k in range(steps):
        optimizer.step()  # no gradient: nothing moves, but PyTorch expects this order
        if plateau:
            scheduler.step(PLATEAU_METRICS[k])
            lrs.append(optimizer.param_groups[0]["lr"])
        else:
            scheduler.step()
            lrs.append(scheduler.get_last_lr()[0])
    return {
        "id": case_id("schedule", name, options, number),
        "op": "schedule",
        "optim": {"type": optim_name, "options": optim_options},
        "scheduler": {"type": name, "options": options},
        "metrics": PLATEAU_METRICS if plateau else None,
        "lrs": lrs,
    }


def build():
    rec = Recorded("optimizers").raw("linear-CE")
    number = FIRST_NUMBER
    records = []
    for optim_name, options, scheduler in TRAIN_RUNS:
        records.append(train_case(rec, number, optim_name, options, scheduler))
        number += 1
    for name, options in SCHEDULES:
        records.append(schedule_case(number, name, options))
        number += 1
    return records
