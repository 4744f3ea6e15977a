"""training.json: Linear and EmbeddingBag models trained with SGD, step by step.

Every setup (model, data, loss, batches) is trained once per SGD variant. The initial
parameters, the data sets and the shuffled batches are recorded (recorded/training.json).
"""

import torch

from recorded import Recorded
from tensors import decode, dumps_compact, encode, encode_scalar32

FILE = "training.json"
dumps = dumps_compact

# (setup, model type, EmbeddingBag mode, loss op, learning rate)
SETUPS = [
    ("multiclass-CE", "Linear", None, "nn.CrossEntropyLoss", 0.05),
    ("multilabel-BCEWithLogits+posWeight", "Linear", None, "nn.BCEWithLogitsLoss", 0.05),
    ("binary-BCEWithLogits", "Linear", None, "nn.BCEWithLogitsLoss", 0.05),  # one logit per row
    ("embeddingBag-mean-CE", "EmbeddingBag+bias", "mean", "nn.CrossEntropyLoss", 0.2),
    ("embeddingBag-sum-CE", "EmbeddingBag+bias", "sum", "nn.CrossEntropyLoss", 0.05),
]

# (variant, momentum, dampening, nesterov, weight decay)
SGD_VARIANTS = [
    ("sgd", 0.0, 0.0, False, 0.0),
    ("momentum", 0.9, 0.0, False, 0.0),
    ("nesterov", 0.9, 0.0, True, 0.0),
    ("weightDecay", 0.0, 0.0, False, 0.001),
    ("dampening", 0.9, 0.1, False, 0.0),
    ("momentum+weightDecay", 0.9, 0.0, False, 0.001),
]


def corpus(docs):
    """All docs' tokens in one list and the offset where each doc starts."""
    tokens, offsets = [], []
    for doc in docs:
        offsets.append(len(tokens))
        tokens.extend(doc)
    return torch.tensor(tokens, dtype=torch.int64), torch.tensor(offsets, dtype=torch.int64)


class LinearModel:
    def __init__(self, weight, bias, data):
        self.module = torch.nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self.module.weight.copy_(weight)
            self.module.bias.copy_(bias)
        self.X = decode(data["X"])

    def params(self):
        return [self.module.weight, self.module.bias]

    def forward(self, batch):
        return self.module(self.X[batch])

    def describe(self, weight, bias):
        return {"type": "Linear", "inFeatures": weight.shape[1], "outFeatures": weight.shape[0],
                "weight": encode(weight), "bias": encode(bias)}

    def data_json(self, y):
        return {"X": encode(self.X), "y": encode(y)}


class EmbeddingBagModel:
    """nn.EmbeddingBag plus a separate bias: embbag(tokens, offsets) + bias."""

    def __init__(self, weight, bias, data, mode):
        self.mode = mode
        self.module = torch.nn.EmbeddingBag(weight.shape[0], weight.shape[1], mode=mode)
        with torch.no_grad():
            self.module.weight.copy_(weight)
        self.bias = bias.clone().requires_grad_(True)
        self.docs = data["docs"]

    def params(self):
        return [self.module.weight, self.bias]

    def forward(self, batch):
        # The batch's docs back to back, in batch order, with their running starts.
        tokens, offsets = corpus([self.docs[i] for i in batch])
        return self.module(tokens, offsets) + self.bias

    def describe(self, weight, bias):
        return {"type": "EmbeddingBag+bias", "mode": self.mode, "numEmbeddings": weight.shape[0],
                "embeddingDim": weight.shape[1], "weight": encode(weight), "bias": encode(bias)}

    def data_json(self, y):
        tokens, offsets = corpus(self.docs)
        return {"docs": self.docs, "tokens": encode(tokens), "offsets": encode(offsets), "y": encode(y)}


def make_model(model_type, mode, weight, bias, data):
    if model_type == "Linear":
        return LinearModel(weight, bias, data)
    return EmbeddingBagModel(weight, bias, data, mode)


def train(model, loss_fn, y, batches, optimizer):
    """SGD steps over the batches: per-step losses, the first step's grads, final params."""
    losses, first_grads = [], None
    for batch in batches:
        optimizer.zero_grad()
        loss = loss_fn(model.forward(batch), y[batch])
        losses.append(encode_scalar32(loss.item()))  # the loss before this step's update
        loss.backward()
        if first_grads is None:
            first_grads = [p.grad.clone() for p in model.params()]
        optimizer.step()
    return losses, first_grads, [p.detach().clone() for p in model.params()]


def make_loss(loss_op, pos_weight):
    if pos_weight is None:
        return getattr(torch.nn, loss_op[3:])()
    return getattr(torch.nn, loss_op[3:])(pos_weight=pos_weight)


def run_setup(setup, model_type, mode, loss_op, lr, variant, rec):
    name, momentum, dampening, nesterov, weight_decay = variant
    weight, bias = decode(rec["weight"]), decode(rec["bias"])
    pos_weight = decode(rec["posWeight"]) if "posWeight" in rec else None
    model = make_model(model_type, mode, weight, bias, rec["data"])
    # SGD gets both parameters, so weight decay applies to the bias too (as in PyTorch).
    optimizer = torch.optim.SGD(model.params(), lr=lr, momentum=momentum, dampening=dampening,
                                nesterov=nesterov, weight_decay=weight_decay)
    y = decode(rec["data"]["y"])
    losses, first_grads, final = train(model, make_loss(loss_op, pos_weight), y, rec["batches"], optimizer)
    return {
        "id": f"train/{setup}/{name}",
        "op": "train",
        "model": model.describe(weight, bias),
        "data": model.data_json(y),
        "loss": {"op": loss_op, "options": {} if pos_weight is None else {"posWeight": encode(pos_weight)}},
        "optim": {"type": "SGD", "lr": lr, "momentum": momentum, "dampening": dampening,
                  "nesterov": nesterov, "weightDecay": weight_decay},
        "batches": rec["batches"],
        "losses": losses,
        "firstGrads": {"weight": encode(first_grads[0]), "bias": encode(first_grads[1])},
        "final": {"weight": encode(final[0]), "bias": encode(final[1])},
    }


# Setups added later build their data in code: setup name -> function returning a dict shaped
# like a recorded entry: {"weight", "bias", "data": {"X" or "docs", "y"}, "batches", "posWeight"?},
# tensors encoded with tensors.encode.
NEW_SETUP_DATA = {}


def setup_data(recorded, setup):
    if setup in NEW_SETUP_DATA:
        return NEW_SETUP_DATA[setup]()
    return recorded.raw(setup)


def build():
    recorded = Recorded("training")
    records = []
    for setup, model_type, mode, loss_op, lr in SETUPS:
        rec = setup_data(recorded, setup)
        for variant in SGD_VARIANTS:
            records.append(run_setup(setup, model_type, mode, loss_op, lr, variant, rec))
    return records
