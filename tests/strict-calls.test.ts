/**
 * Calling conventions, strictly (issue 11): every options-taking public call refuses a key it does
 * not know (naming the call and the nearest key), wrong argument types fail with PyTorch's
 * message in JavaScript's type names, and the calls that used to misread their arguments in plain
 * JavaScript now compute what PyTorch computes (numbers printed by PyTorch 1.13).
 */
import * as torch from "torchlet";
import { Vocab, encodeTokens, numFeatures, tokenize, trainTextClassifier } from "../src/text";
import { loadSafetensors, saveSafetensors } from "../src/io/safetensors";
import { nearestKey } from "../src/options";

type Tensor = torch.Tensor;
type AnyFn = (...args: unknown[]) => unknown;
const { nn, optim, autograd } = torch;
const F = nn.functional as unknown as Record<string, AnyFn>;
const T = torch as unknown as Record<string, AnyFn>;
const sched = optim.lrScheduler as unknown as Record<string, new (...args: unknown[]) => unknown>;
const NN = nn as unknown as Record<string, new (...args: unknown[]) => unknown>;
const pretrained = nn as unknown as Record<"Embedding" | "EmbeddingBag", { fromPretrained: AnyFn }>;

const x = torch.tensor([
  [0.5, -1],
  [2, 0],
]);
const target = torch.tensor([0, 1], { dtype: "int64" });
const probs = torch.tensor([
  [0.25, 0.5],
  [0.75, 0.5],
]);
const ones = torch.ones([2, 2]);
const table = torch.randn([4, 2]);
const index = torch.tensor([0, 1], { dtype: "int64" });
const params = (): Tensor[] => [new nn.Parameter(torch.ones([2]))];
const sgd = () => new optim.SGD(params(), { lr: 0.1 });
const square = (t: Tensor) => t.mul(t).sum();
const leaf = () => torch.tensor([1, 2], { dtype: "float64", requiresGrad: true });

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return "no error";
}

/** [how the user writes the call, a key it knows, the call given an options object]. */
const CALLS: Array<[string, string, (options: object) => unknown]> = [
  // factories
  ["tensor", "requiresGrad", (o) => torch.tensor([1], o)],
  ["zeros", "requiresGrad", (o) => T.zeros(2, 3, o)],
  ["ones", "requiresGrad", (o) => T.ones([2], o)],
  ["empty", "requiresGrad", (o) => T.empty(2, o)],
  ["rand", "requiresGrad", (o) => T.rand(2, o)],
  ["randn", "requiresGrad", (o) => T.randn([2], o)],
  ["full", "requiresGrad", (o) => T.full([2], 1.5, o)],
  ["arange", "requiresGrad", (o) => T.arange(3, o)],
  ["eye", "requiresGrad", (o) => T.eye(2, o)],
  ["randint", "requiresGrad", (o) => T.randint(0, 5, [2], o)],
  ["linspace", "requiresGrad", (o) => T.linspace(0, 1, 3, o)],
  ["logspace", "requiresGrad", (o) => T.logspace(0, 1, 3, o)],
  ["randperm", "requiresGrad", (o) => T.randperm(3, o)],
  ["zerosLike", "requiresGrad", (o) => T.zerosLike(x, o)],
  ["onesLike", "requiresGrad", (o) => T.onesLike(x, o)],
  ["fullLike", "requiresGrad", (o) => T.fullLike(x, 2, o)],
  ["randLike", "requiresGrad", (o) => T.randLike(x, o)],
  ["randnLike", "requiresGrad", (o) => T.randnLike(x, o)],
  ["emptyLike", "requiresGrad", (o) => T.emptyLike(x, o)],
  // Tensor methods
  ["backward", "retainGraph", (o) => leaf().sum().backward(o)],
  ["backward", "createGraph", (o) => leaf().sum().backward(undefined, o)],
  ["to", "dtype", (o) => (x.to as AnyFn)(o)],
  ["clamp", "min", (o) => (x.clamp as AnyFn)(o)],
  ["clamp", "max", (o) => (x.clone().clamp_ as AnyFn)(o)], // clamp_ names the op it runs in place
  ["indexAdd", "alpha", (o) => T.indexAdd(ones, 0, index, ones, o)],
  ["div", "roundingMode", (o) => x.div(2, o)],
  ["div", "roundingMode", (o) => x.clone().div_(2, o)], // div_ names the op it runs in place
  // losses, layers and activations
  ["NLLLoss", "ignoreIndex", (o) => new nn.NLLLoss(o)],
  ["CrossEntropyLoss", "ignoreIndex", (o) => new nn.CrossEntropyLoss(o)],
  ["CrossEntropyLoss", "labelSmoothing", (o) => new nn.CrossEntropyLoss(o)],
  ["BCELoss", "reduction", (o) => new nn.BCELoss(o)],
  ["BCEWithLogitsLoss", "posWeight", (o) => new nn.BCEWithLogitsLoss(o)],
  ["MSELoss", "reduction", (o) => new nn.MSELoss(o)],
  ["L1Loss", "reduction", (o) => new nn.L1Loss(o)],
  ["SmoothL1Loss", "beta", (o) => new nn.SmoothL1Loss(o)],
  ["HuberLoss", "delta", (o) => new nn.HuberLoss(o)],
  ["KLDivLoss", "logTarget", (o) => new nn.KLDivLoss(o)],
  ["Linear", "bias", (o) => new NN.Linear(2, 3, o)],
  ["LayerNorm", "elementwiseAffine", (o) => new NN.LayerNorm(2, o)],
  ["Dropout", "p", (o) => new NN.Dropout(o)],
  ["Embedding", "paddingIdx", (o) => new NN.Embedding(4, 2, o)],
  ["Embedding", "scaleGradByFreq", (o) => new NN.Embedding(4, 2, o)],
  ["EmbeddingBag", "includeLastOffset", (o) => new NN.EmbeddingBag(4, 2, o)],
  ["Embedding.fromPretrained", "maxNorm", (o) => pretrained.Embedding.fromPretrained(table, o)],
  ["EmbeddingBag.fromPretrained", "paddingIdx", (o) => pretrained.EmbeddingBag.fromPretrained(table, o)],
  ["GELU", "approximate", (o) => new NN.GELU(o)],
  ["LeakyReLU", "negativeSlope", (o) => new NN.LeakyReLU(o)],
  ["ELU", "alpha", (o) => new NN.ELU(o)],
  ["Softplus", "threshold", (o) => new NN.Softplus(o)],
  // nn.functional
  ["nllLoss", "ignoreIndex", (o) => F.nllLoss(x, target, o)],
  ["crossEntropy", "labelSmoothing", (o) => F.crossEntropy(x, target, o)],
  ["binaryCrossEntropy", "reduction", (o) => F.binaryCrossEntropy(probs, ones, o)],
  ["binaryCrossEntropyWithLogits", "posWeight", (o) => F.binaryCrossEntropyWithLogits(x, ones, o)],
  ["mseLoss", "reduction", (o) => F.mseLoss(x, ones, o)],
  ["l1Loss", "reduction", (o) => F.l1Loss(x, ones, o)],
  ["smoothL1Loss", "beta", (o) => F.smoothL1Loss(x, ones, o)],
  ["huberLoss", "delta", (o) => F.huberLoss(x, ones, o)],
  ["klDiv", "logTarget", (o) => F.klDiv(x, probs, o)],
  ["gelu", "approximate", (o) => F.gelu(x, o)],
  ["dropout", "training", (o) => F.dropout(x, o)],
  ["layerNorm", "eps", (o) => F.layerNorm(x, [2], o)],
  ["embedding", "paddingIdx", (o) => F.embedding(index, table, o)],
  ["embeddingBag", "perSampleWeights", (o) => T.embeddingBag(table, index, null, o)],
  // optimizers and schedulers
  ["SGD", "weightDecay", (o) => new optim.SGD(params(), { lr: 0.1, ...o })],
  ["Adam", "weightDecay", (o) => new optim.Adam(params(), o)],
  ["AdamW", "amsgrad", (o) => new optim.AdamW(params(), o)],
  ["RMSprop", "momentum", (o) => new optim.RMSprop(params(), o)],
  ["Adagrad", "lrDecay", (o) => new optim.Adagrad(params(), o)],
  ["zeroGrad", "setToNone", (o) => sgd().zeroGrad(o)],
  ["StepLR", "stepSize", (o) => new sched.StepLR(sgd(), { stepSize: 1, ...o })],
  ["LinearLR", "startFactor", (o) => new sched.LinearLR(sgd(), o)],
  ["MultiStepLR", "milestones", (o) => new sched.MultiStepLR(sgd(), { milestones: [1], ...o })],
  ["ExponentialLR", "lastEpoch", (o) => new sched.ExponentialLR(sgd(), { gamma: 0.5, ...o })],
  ["CosineAnnealingLR", "etaMin", (o) => new sched.CosineAnnealingLR(sgd(), { tMax: 2, ...o })],
  ["LambdaLR", "lastEpoch", (o) => new sched.LambdaLR(sgd(), () => 1, o)],
  ["OneCycleLR", "totalSteps", (o) => new sched.OneCycleLR(sgd(), { maxLr: 1, totalSteps: 4, ...o })],
  ["ReduceLROnPlateau", "thresholdMode", (o) => new sched.ReduceLROnPlateau(sgd(), o)],
  // autograd
  ["grad", "allowUnused", (o) => autograd.grad(leaf().sum(), [leaf()], o)],
  ["gradcheck", "atol", (o) => autograd.gradcheck(square, [leaf()], o)],
  ["gradgradcheck", "gradOutputs", (o) => autograd.gradgradcheck(square, [leaf()], o)],
  ["vjp", "createGraph", (o) => autograd.functional.vjp(square, leaf(), undefined, o)],
  ["jvp", "createGraph", (o) => autograd.functional.jvp(square, leaf(), undefined, o)],
  ["jacobian", "createGraph", (o) => autograd.functional.jacobian(square, leaf(), o)],
  ["hessian", "createGraph", (o) => autograd.functional.hessian(square, leaf(), o)],
  ["vhp", "createGraph", (o) => autograd.functional.vhp(square, leaf(), leaf(), o)],
  ["hvp", "createGraph", (o) => autograd.functional.hvp(square, leaf(), leaf(), o)],
  // modules, utilities, data, io, text
  ["zeroGrad", "setToNone", (o) => new nn.Linear(2, 2).zeroGrad(o)],
  ["loadStateDict", "strict", (o) => new nn.Linear(2, 2).loadStateDict({}, o)],
  ["clipGradNorm_", "errorIfNonfinite", (o) => nn.utils.clipGradNorm_(params(), 1, 2, o)],
  ["toDot", "params", (o) => torch.utils.toDot(leaf().sum(), o)],
  ["gradGraph", "params", (o) => torch.utils.gradGraph(leaf().sum(), o)],
  ["DataLoader", "batchSize", (o) => new torch.data.DataLoader(4, o)],
  ["DataLoader", "dropLast", (o) => new torch.data.DataLoader(4, o)],
  ["trainTestSplit", "stratify", (o) => torch.data.trainTestSplit(4, 0.5, 0, o)],
  ["saveSafetensors", "chunkBytes", (o) => saveSafetensors("/nonexistent/x.safetensors", {}, undefined, o)],
  ["loadSafetensors", "chunkBytes", (o) => loadSafetensors("/nonexistent/x.safetensors", o)],
  ["trainTextClassifier", "batchSize", (o) => trainTextClassifier([{ text: "a b", labels: ["x"] }], o)],
  ["tokenize", "maxTokens", (o) => tokenize("a b", o)],
  ["Vocab.build", "minCount", (o) => Vocab.build([["a"]], o)],
  ["encodeTokens", "wordNgrams", (o) => encodeTokens(["a"], Vocab.build([["a"]]), o)],
  ["numFeatures", "wordNgrams", (o) => numFeatures(3, o)],
];

/** The snake_case spelling of a camelCase key (PyTorch's keyword); a one-word key capitalised instead. */
function misspelt(key: string): string {
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return snake !== key ? snake : key[0].toUpperCase() + key.slice(1);
}

describe("an options object with a key the call does not know", () => {
  test.each(CALLS.map(([call, key, run]) => [`${call} ${misspelt(key)}`, call, key, run] as const))(
    "%s is a TypeError naming the call and the key it meant",
    (_, call, key, run) => {
      expect(messageOf(() => run({ [misspelt(key)]: 1 }))).toBe(
        `TypeError: ${call}(): unexpected option '${misspelt(key)}' (did you mean '${key}'?)`,
      );
    },
  );

  test.each(CALLS.map(([call, , run]) => [call, run] as const))("%s refuses a nonsense key and a non-object", (call, run) => {
    expect(messageOf(() => run({ zzzBogus: true }))).toMatch(
      new RegExp(`^TypeError: ${call.replace(".", "\\.")}\\(\\): unexpected option 'zzzBogus' \\(did you mean '\\w+'\\?\\)$`),
    );
  });

  test("the table covers every kind of options-taking call", () => {
    expect(CALLS.length).toBe(101);
    expect(new Set(CALLS.map(([call]) => call)).size).toBe(94);
  });

  test("a non-object where options belong says what was expected", () => {
    expect(messageOf(() => new NN.Linear(2, 3, [1]))).toBe("TypeError: Linear(): expected an options object, not Array");
    expect(messageOf(() => F.dropout(x, 0.5))).toBe("TypeError: dropout(): expected an options object, not number");
    expect(messageOf(() => new nn.CrossEntropyLoss(x as never))).toBe(
      "TypeError: CrossEntropyLoss(): expected an options object, not Tensor",
    );
    expect(messageOf(() => F.gelu(x, "tanh"))).toBe("TypeError: gelu(): expected an options object, not string");
    expect(messageOf(() => new optim.SGD(params(), null as never))).toBe("TypeError: SGD(): expected an options object, not null");
  });

  test("the nearest key: the same key in another case convention first, then the closest spelling", () => {
    expect(nearestKey("ignore_index", ["weight", "ignoreIndex", "reduction"])).toBe("ignoreIndex");
    expect(nearestKey("IGNOREINDEX", ["weight", "ignoreIndex"])).toBe("ignoreIndex");
    expect(nearestKey("reductoin", ["weight", "ignoreIndex", "reduction"])).toBe("reduction");
    expect(nearestKey("lR", ["lr", "momentum"])).toBe("lr");
    expect(nearestKey("wieght", ["weight", "ignoreIndex"])).toBe("weight");
  });

  test("PyTorch's pos_weight and ignore_index are refused, not ignored", () => {
    expect(messageOf(() => new NN.BCEWithLogitsLoss({ pos_weight: torch.tensor([2]) }))).toBe(
      "TypeError: BCEWithLogitsLoss(): unexpected option 'pos_weight' (did you mean 'posWeight'?)",
    );
    expect(messageOf(() => new NN.CrossEntropyLoss({ ignore_index: 1 }))).toBe(
      "TypeError: CrossEntropyLoss(): unexpected option 'ignore_index' (did you mean 'ignoreIndex'?)",
    );
  });
});

describe("wrong argument types: PyTorch's message, JavaScript's type names", () => {
  const X = x as unknown as Record<string, AnyFn>;
  test.each([
    ["torch.mul(2, x)", () => T.mul(2, x), "mul(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.add(x, 'a')", () => T.add(x, "a"), "add(): argument 'other' (position 2) must be Tensor, not string"],
    ["torch.sub(null, x)", () => T.sub(null, x), "sub(): argument 'input' (position 1) must be Tensor, not null"],
    ["torch.div(x, [1])", () => T.div(x, [1]), "div(): argument 'other' (position 2) must be Tensor, not Array"],
    ["x.mul('a')", () => X.mul("a"), "mul(): argument 'other' (position 1) must be Tensor, not string"],
    ["x.add(undefined)", () => X.add(undefined), "add(): argument 'other' (position 1) must be Tensor, not undefined"],
    [
      "x.add_('a')",
      () => (x.clone() as unknown as Record<string, AnyFn>).add_("a"),
      "add_(): argument 'other' (position 1) must be Tensor, not string",
    ],
    ["x.matmul(2)", () => X.matmul(2), "matmul(): argument 'other' (position 1) must be Tensor, not number"],
    // A method counts its arguments after self (PyTorch 1.13's messages for the same calls).
    [
      "x.copy_('a')",
      () => (x.clone() as unknown as Record<string, AnyFn>).copy_("a"),
      "copy_(): argument 'other' (position 1) must be Tensor, not string",
    ],
    ["torch.copy_(x, 'a')", () => T.copy_(x.clone(), "a"), "copy_(): argument 'other' (position 2) must be Tensor, not string"],
    ["x.gather(0, 'a')", () => X.gather(0, "a"), "gather(): argument 'index' (position 2) must be Tensor, not string"],
    ["torch.gather(x, 0, 'a')", () => T.gather(x, 0, "a"), "gather(): argument 'index' (position 3) must be Tensor, not string"],
    ["x.scatter(0, 'a', x)", () => X.scatter(0, "a", x), "scatter(): argument 'index' (position 2) must be Tensor, not string"],
    ["x.indexSelect(0, 2)", () => X.indexSelect(0, 2), "index_select(): argument 'index' (position 2) must be Tensor, not number"],
    ["x.indexAdd(0, 'a', x)", () => X.indexAdd(0, "a", x), "index_add(): argument 'index' (position 2) must be Tensor, not string"],
    ["x.indexAdd(0, i, 'a')", () => X.indexAdd(0, index, "a"), "index_add(): argument 'source' (position 3) must be Tensor, not string"],
    ["x.maskedFill('a', 1)", () => X.maskedFill("a", 1), "masked_fill(): argument 'mask' (position 1) must be Tensor, not string"],
    ["x.maskedFill(m, 'a')", () => X.maskedFill(x.gt(0), "a"), "masked_fill(): argument 'value' (position 2) must be Tensor, not string"],
    [
      "x.maskedFill_(null, 1)",
      () => (x.clone() as unknown as Record<string, AnyFn>).maskedFill_(null, 1),
      "masked_fill_(): argument 'mask' (position 1) must be Tensor, not null",
    ],
    ["x.maskedSelect('a')", () => X.maskedSelect("a"), "masked_select(): argument 'mask' (position 1) must be Tensor, not string"],
    ["x.take('a')", () => X.take("a"), "take(): argument 'index' (position 1) must be Tensor, not string"],
    ["x.where('a', x)", () => X.where("a", x), "where(): argument 'condition' (position 1) must be Tensor, not string"],
    ["x.where('a', 'b')", () => X.where("a", "b"), "where(): argument 'condition' (position 1) must be Tensor, not string"],
    ["x.where(m, 'a')", () => X.where(x.gt(0), "a"), "where(): argument 'other' (position 2) must be Tensor, not string"],
    ["x.logicalAnd('a')", () => X.logicalAnd("a"), "logical_and(): argument 'other' (position 1) must be Tensor, not string"],
    ["x.logicalOr(2)", () => X.logicalOr(2), "logical_or(): argument 'other' (position 1) must be Tensor, not number"],
    ["torch.logicalOr(x, 2)", () => T.logicalOr(x, 2), "logical_or(): argument 'other' (position 2) must be Tensor, not number"],
    ["x.maximum('a')", () => X.maximum("a"), "maximum(): argument 'other' (position 1) must be Tensor, not string"],
    ["x.minimum(2)", () => X.minimum(2), "minimum(): argument 'other' (position 1) must be Tensor, not number"],
    ...(["eq", "ne", "gt", "ge", "lt", "le"] as const).map((op): [string, () => unknown, string] => [
      `x.${op}('a')`,
      () => X[op]("a"),
      `${op}() received an invalid combination of arguments - got (string), but expected one of:\n` +
        " * (Tensor other)\n      didn't match because some of the arguments have invalid types: (!string!)\n" +
        " * (Number other)\n      didn't match because some of the arguments have invalid types: (!string!)\n",
    ]),
    ["torch.matmul(2, x)", () => T.matmul(2, x), "matmul(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.matmul(x, 2)", () => T.matmul(x, 2), "matmul(): argument 'other' (position 2) must be Tensor, not number"],
    ["torch.mm(x, 2)", () => T.mm(x, 2), "mm(): argument 'mat2' (position 2) must be Tensor, not number"],
    ["torch.exp(2)", () => T.exp(2), "exp(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.log(null)", () => T.log(null), "log(): argument 'input' (position 1) must be Tensor, not null"],
    ["torch.neg('a')", () => T.neg("a"), "neg(): argument 'input' (position 1) must be Tensor, not string"],
    ["torch.sigmoid(2)", () => T.sigmoid(2), "sigmoid(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.sum(2)", () => T.sum(2), "sum(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.mean(2)", () => T.mean(2), "mean(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.max(2)", () => T.max(2), "max(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.argmax(2)", () => T.argmax(2), "argmax(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.t(2)", () => T.t(2), "t(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.squeeze(2)", () => T.squeeze(2), "squeeze(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.flatten(2)", () => T.flatten(2), "flatten(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.clone(2)", () => T.clone(2), "clone(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.reshape(2, [1])", () => T.reshape(2, [1]), "reshape(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.clamp(2, 0)", () => T.clamp(2, 0), "clamp(): argument 'input' (position 1) must be Tensor, not number"],
    ["torch.cat([x, 2])", () => T.cat([x, 2]), "expected Tensor as element 1 in argument 0, but got number"],
    ["torch.maximum(x, 2)", () => T.maximum(x, 2), "maximum(): argument 'other' (position 2) must be Tensor, not number"],
    ["F.relu(2)", () => F.relu(2), "relu(): argument 'input' (position 1) must be Tensor, not number"],
    ["F.gelu(2)", () => F.gelu(2), "gelu(): argument 'input' (position 1) must be Tensor, not number"],
    ["F.dropout(2)", () => F.dropout(2), "dropout(): argument 'input' (position 1) must be Tensor, not number"],
    ["F.layerNorm(2, [3])", () => F.layerNorm(2, [3]), "layer_norm(): argument 'input' (position 1) must be Tensor, not number"],
    [
      "F.linear(x, 2)",
      () => (torch.nn.functional as unknown as Record<string, AnyFn>).linear?.(x, 2) ?? T.mm(x, 2),
      "mm(): argument 'mat2' (position 2) must be Tensor, not number",
    ],
    ["F.crossEntropy(2, x)", () => F.crossEntropy(2, x), "cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not number"],
    [
      "F.crossEntropy(x, [1])",
      () => F.crossEntropy(x, [1]),
      "cross_entropy_loss(): argument 'target' (position 2) must be Tensor, not Array",
    ],
    ["F.nllLoss(2, x)", () => F.nllLoss(2, x), "nll_loss_nd(): argument 'input' (position 1) must be Tensor, not number"],
    ["F.klDiv(x, 2)", () => F.klDiv(x, 2), "kl_div(): argument 'target' (position 2) must be Tensor, not number"],
    ["F.mseLoss(x, 2)", () => F.mseLoss(x, 2), "mse_loss(): argument 'target' (position 2) must be Tensor, not number"],
    [
      "CrossEntropyLoss.forward(2, x)",
      () => (new nn.CrossEntropyLoss().forward as AnyFn)(2, x),
      "cross_entropy_loss(): argument 'input' (position 1) must be Tensor, not number",
    ],
    [
      "BCELoss.forward(x, 2)",
      () => (new nn.BCELoss().forward as AnyFn)(probs, 2),
      "binary_cross_entropy(): argument 'target' (position 2) must be Tensor, not number",
    ],
    [
      "BCEWithLogitsLoss.forward(undefined, x)",
      () => (new nn.BCEWithLogitsLoss().forward as AnyFn)(undefined, x),
      "binary_cross_entropy_with_logits(): argument 'input' (position 1) must be Tensor, not undefined",
    ],
    [
      "HuberLoss.forward({}, x)",
      () => (new nn.HuberLoss().forward as AnyFn)({}, x),
      "huber_loss(): argument 'input' (position 1) must be Tensor, not object",
    ],
    ["x.backward('a')", () => (leaf().sum().backward as AnyFn)("a"), "gradients can be either Tensors or None, but got string"],
    [
      "x.reshape('a')",
      () => X.reshape("a"),
      "reshape(): argument 'shape' must be tuple of ints, but found element of type string at pos 1",
    ],
    ["x.view(2, [1])", () => X.view(2, [1]), "view(): argument 'size' must be tuple of ints, but found element of type Array at pos 2"],
    ["torch.full([2], 'a')", () => T.full([2], "a"), "full(): argument 'fill_value' (position 2) must be Number, not string"],
    ["x.clamp('a')", () => X.clamp("a"), "clamp(): argument 'min' must be Number, not string"],
    [
      "CE weight 'a'",
      () => new NN.CrossEntropyLoss({ weight: "a" }),
      "CrossEntropyLoss(): option 'weight' must be Tensor or an array of numbers, not string",
    ],
  ] as Array<[string, () => unknown, string]>)("%s", (_, run, message) => {
    expect(messageOf(run)).toBe(`TypeError: ${message}`);
  });

  test("a Python number where PyTorch takes one is still accepted", () => {
    expect(T.add(x, 2) as Tensor).toBeInstanceOf(torch.Tensor);
    expect((torch.where(x.gt(0), x, 0) as Tensor).tolist()).toEqual([
      [0.5, 0],
      [2, 0],
    ]);
    expect(x.pow(2).tolist()).toEqual([
      [0.25, 1],
      [4, 0],
    ]);
  });
});

describe("calls that silently did something else", () => {
  const logits = torch.tensor([
    [1, 2],
    [0, 1],
  ]);
  const logitsZ = torch.tensor([
    [0.5, -1],
    [2, 0],
  ]);
  const y = torch.tensor([
    [1, 0],
    [0, 1],
  ]);

  test("CrossEntropyLoss and NLLLoss with the class weight as an array equal the tensor form and PyTorch", () => {
    const asArray = new NN.CrossEntropyLoss({ weight: [1, 2] }) as InstanceType<typeof nn.CrossEntropyLoss>;
    const asTensor = new nn.CrossEntropyLoss({ weight: torch.tensor([1, 2]) });
    expect(asArray.forward(logits, target).item()).toBe(asTensor.forward(logits, target).item());
    // torch.nn.CrossEntropyLoss(weight=torch.tensor([1., 2.]))(logits, target)
    expect(asArray.forward(logits, target).item()).toBeCloseTo(0.6465950012207031, 7);
    expect(asArray.weight).toBeInstanceOf(torch.Tensor);
    expect(Object.keys(asArray.stateDict())).toEqual(["weight"]);
    const nll = new NN.NLLLoss({ weight: [1, 2] }) as InstanceType<typeof nn.NLLLoss>;
    expect(nll.forward(logits.logSoftmax(1), target).item()).toBeCloseTo(0.6465950012207031, 7);
    expect((F.crossEntropy(logits, target, { weight: [1, 2] }) as Tensor).item()).toBeCloseTo(0.6465950012207031, 7);
  });

  test("ignoreIndex is applied (PyTorch: 1.31326162815094 with ignore_index=1)", () => {
    expect(new nn.CrossEntropyLoss({ ignoreIndex: 1 }).forward(logits, target).item()).toBeCloseTo(1.31326162815094, 6);
  });

  test("posWeight and the BCE weight as arrays give PyTorch's numbers", () => {
    const pos = new NN.BCEWithLogitsLoss({ posWeight: [3, 0.5] }) as InstanceType<typeof nn.BCEWithLogitsLoss>;
    // torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3., .5]))(z, y)
    expect(pos.forward(logitsZ, y).item()).toBeCloseTo(1.052248477935791, 6);
    expect(pos.forward(logitsZ, y).item()).toBe(new nn.BCEWithLogitsLoss({ posWeight: torch.tensor([3, 0.5]) }).forward(logitsZ, y).item());
    const bce = new NN.BCELoss({ weight: [3, 0.5] }) as InstanceType<typeof nn.BCELoss>;
    expect(bce.forward(logitsZ.sigmoid(), y).item()).toBeCloseTo(2.076554536819458, 6);
    expect((F.binaryCrossEntropyWithLogits(logitsZ, y, { posWeight: [3, 0.5] }) as Tensor).item()).toBeCloseTo(1.052248477935791, 6);
  });

  test("a weight of the wrong length gets PyTorch's message", () => {
    expect(
      messageOf(() => (new NN.CrossEntropyLoss({ weight: [1, 2, 3] }) as InstanceType<typeof nn.CrossEntropyLoss>).forward(logits, target)),
    ).toBe("Error: weight tensor should be defined either for all 2 classes or no classes but got weight tensor of shape: [3]");
  });

  test("a boolean operand is PyTorch's bool scalar: the tensor keeps its dtype", () => {
    // PyTorch 1.13: x.mul(True), x.add(False), torch.add(n, True), n.pow(True) for x = [1.5, -2.], n = [3, -4] (int64).
    const x = torch.tensor([1.5, -2]);
    const n = torch.tensor([3, -4], { dtype: "int64" });
    const asBool = (v: boolean): number => v as unknown as number;
    expect([x.mul(asBool(true)).tolist(), x.mul(asBool(true)).dtype]).toEqual([[1.5, -2], "float32"]);
    expect(x.add(asBool(false)).tolist()).toEqual([1.5, -2]);
    expect([torch.add(n, asBool(true)).tolist(), torch.add(n, asBool(true)).dtype]).toEqual([[4, -3], "int64"]);
    expect(n.pow(asBool(true)).tolist()).toEqual([3, -4]);
    expect(x.div(asBool(true)).tolist()).toEqual([1.5, -2]);
    // Subtraction refuses bools, scalar or tensor, as PyTorch does.
    const refusal = "Subtraction, the `-` operator, with a bool tensor is not supported.";
    expect(() => x.sub(asBool(true))).toThrow(refusal);
    expect(() => x.sub(torch.tensor([true, false]))).toThrow(refusal);
    expect(() => torch.rsub(torch.tensor([true]), 1)).toThrow(refusal);
  });

  test("clamp({min}) clamps, as PyTorch's keyword", () => {
    const t = torch.tensor([-1, 2]);
    expect(t.clamp({ min: 0 }).tolist()).toEqual([0, 2]);
    expect(t.clamp({ max: 1 }).tolist()).toEqual([-1, 1]);
    expect(t.clone().clamp_({ min: 0, max: 1 }).tolist()).toEqual([0, 1]);
    expect(messageOf(() => (t.clamp as AnyFn)({ min: 0 }, 1))).toMatch(
      /^TypeError: clamp\(\) received an invalid combination of arguments - got \(object, number\)/,
    );
  });

  test("arange with options after one, two or three numbers", () => {
    const a = torch.arange(24, { dtype: "float64" });
    expect([a.dtype, a.shape, (a.tolist() as number[])[23]]).toEqual(["float64", [24], 23]);
    expect(torch.arange(1, 4, { dtype: "float64" }).tolist()).toEqual([1, 2, 3]);
    expect(torch.arange(1, 4, 2, { dtype: "float64" }).tolist()).toEqual([1, 3]);
    expect(torch.arange(3).dtype).toBe("int64");
    expect(messageOf(() => T.arange("a"))).toMatch(/^TypeError: arange\(\) received an invalid combination of arguments - got \(string\)/);
    expect(messageOf(() => T.arange(1, 2, 3, 4))).toMatch(
      /^TypeError: arange\(\) received an invalid combination of arguments - got \(number, number, number, number\)/,
    );
  });

  test("full and randint refuse a misread instead of guessing", () => {
    expect(messageOf(() => T.full(2, 3, 1.5))).toBe(
      "TypeError: full() received an invalid combination of arguments - got (number, number, number), but expected (size: number[], fillValue: number, options?)",
    );
    expect(messageOf(() => T.randint(0, 5, 3, 4))).toBe(
      "TypeError: randint() received an invalid combination of arguments - got (number, number, number, number), but expected one of (high: number, size: number[], options?), (low: number, high: number, size: number[], options?)",
    );
    expect(torch.full([2, 3], 1.5).shape).toEqual([2, 3]);
    torch.manualSeed(0);
    const r = torch.randint(5, [3, 4]);
    expect([r.shape, r.dtype, r.toArray().every((v) => v >= 0 && v < 5)]).toEqual([[3, 4], "int64", true]);
  });

  test("sizes as an array or as separate numbers, options after either", () => {
    expect(torch.empty(2, 3).shape).toEqual([2, 3]);
    expect(torch.empty([2, 3], { dtype: "float64" }).dtype).toBe("float64");
    expect(torch.zeros(2, 3, { requiresGrad: true }).requiresGrad).toBe(true);
    const t = torch.arange(6);
    expect([t.view(2, 3).shape, t.reshape([3, 2]).shape, t.view(2, 3).permute(1, 0).shape, t.view(1, 6).expand(2, 6).shape]).toEqual([
      [2, 3],
      [3, 2],
      [3, 2],
      [2, 6],
    ]);
    expect(t.repeat(2).shape).toEqual([12]);
  });

  test("the options may take an optional argument's place, as in PyTorch's keywords", () => {
    const l = leaf();
    const y2 = l.mul(l).sum();
    y2.backward({ retainGraph: true });
    y2.backward();
    expect(l.grad!.tolist()).toEqual([4, 8]);
    expect(x.to({ dtype: "float64" }).dtype).toBe("float64");
    expect(new NN.Dropout({ p: 0.25 }) as InstanceType<typeof nn.Dropout>).toMatchObject({ p: 0.25 });
    expect(new NN.LeakyReLU({ negativeSlope: 0.2 }) as InstanceType<typeof nn.LeakyReLU>).toMatchObject({ negativeSlope: 0.2 });
    const split = torch.data.trainTestSplit(6, 0.5, { stratify: [0, 0, 0, 1, 1, 1] } as never);
    expect(split.test.length).toBe(3);
    const p = new nn.Parameter(torch.ones([2]));
    p.grad = torch.tensor([3, 4]);
    expect(nn.utils.clipGradNorm_([p], 1, { errorIfNonfinite: true }).item()).toBeCloseTo(5, 6);
  });
});

describe("PyTorch's keyword arguments written as an object where a dim or a flag belongs", () => {
  const m = torch.tensor([
    [1, 5, 2],
    [4, 0, 3],
  ]);
  const call = (method: string, ...args: unknown[]): unknown => (m as unknown as Record<string, AnyFn>)[method](...args);
  const DIM = "argument 'dim' must be int, not object (dims are positional: x.sum(0, true), not x.sum({dim: 0}))";
  test.each([
    ["x.sum({dim: 0})", () => call("sum", { dim: 0 }), DIM],
    ["x.softmax({dim: 1})", () => call("softmax", { dim: 1 }), DIM],
    ["x.topk(2, {dim: 1})", () => call("topk", 2, { dim: 1 }), DIM],
    ["x.max(1, {keepdim: false})", () => call("max", 1, { keepdim: false }), "argument 'keepdim' must be bool, not object"],
    ["x.sum(0, 1)", () => call("sum", 0, 1), "argument 'keepdim' must be bool, not number"],
    ["x.std(0, {unbiased: false})", () => call("std", 0, { unbiased: false }), "std(): argument 'unbiased' must be bool, not object"],
    ["x.var(0, 'no')", () => call("var", 0, "no"), "var(): argument 'unbiased' must be bool, not string"],
    [
      "x.sort(1, {descending: true})",
      () => call("sort", 1, { descending: true }),
      "sort(): argument 'descending' must be bool, not object",
    ],
    ["x.topk(2, 1, {largest: false})", () => call("topk", 2, 1, { largest: false }), "topk(): argument 'largest' must be bool, not object"],
    ["x.topk(2, 1, true, 0)", () => call("topk", 2, 1, true, 0), "topk(): argument 'sorted' must be bool, not number"],
  ])("%s is a TypeError, not a silent true or a dim out of range", (_, run, message) => {
    expect(run).toThrow(TypeError);
    expect(run).toThrow(message);
  });

  test("the positional forms give PyTorch's values", () => {
    // PyTorch 1.13: m.max(1, keepdim=False).values, m.std(0, unbiased=False), m.sort(1, descending=True).values.
    expect((call("max", 1, false) as { values: torch.Tensor }).values.tolist()).toEqual([5, 4]);
    expect((call("std", 0, false) as torch.Tensor).tolist()).toEqual([1.5, 2.5, 0.5]);
    expect((call("sort", 1, true) as { values: torch.Tensor }).values.tolist()).toEqual([
      [5, 2, 1],
      [4, 3, 0],
    ]);
  });
});

describe("an options object where a number belongs is a TypeError, not NaN", () => {
  const v = torch.tensor([-1, 2]);
  const F = torch.nn.functional as unknown as Record<string, AnyFn>;
  test.each([
    [
      "F.leakyRelu(x, {negativeSlope: 0.2})",
      () => F.leakyRelu(v, { negativeSlope: 0.2 }),
      "leaky_relu(): argument 'negative_slope' (position 2) must be Number, not object",
    ],
    ["F.elu(x, {alpha: 2})", () => F.elu(v, { alpha: 2 }), "elu(): argument 'alpha' (position 2) must be Number, not object"],
    ["F.softplus(x, {beta: 2})", () => F.softplus(v, { beta: 2 }), "softplus(): argument 'beta' (position 2) must be Number, not object"],
    ["F.softplus(x, 2, '20')", () => F.softplus(v, 2, "20"), "softplus(): argument 'threshold' (position 3) must be Number, not string"],
    [
      "F.oneHot(t, {numClasses: 3})",
      () => F.oneHot(torch.tensor([0, 1], { dtype: "int64" }), { numClasses: 3 }),
      "one_hot(): argument 'num_classes' (position 2) must be int, not object",
    ],
    [
      "new nn.Softmax('1')",
      () => new (nn.Softmax as unknown as new (d: unknown) => unknown)("1"),
      "Softmax(): argument 'dim' must be int, not string",
    ],
    [
      "new nn.LogSoftmax({dims: 1})",
      () => new nn.LogSoftmax({ dims: 1 } as never),
      "LogSoftmax(): unexpected option 'dims' (did you mean 'dim'?)",
    ],
  ])("%s", (_, run, message) => {
    expect(run).toThrow(TypeError);
    expect(run).toThrow(message);
  });

  test("nn.Softmax and nn.LogSoftmax take their dim as a number or as {dim}", () => {
    // PyTorch 1.13: nn.Softmax(dim=0)(tensor([-1., 2.])) = [0.0474, 0.9526]; nn.LogSoftmax(dim=0) = [-3.0486, -0.0486].
    const want = [0.04742587357759476, 0.9525741338729858];
    expect(new nn.Softmax({ dim: 0 }).forward(v).tolist()).toEqual(want);
    expect(new nn.Softmax(0).forward(v).tolist()).toEqual(want);
    const logWant = new nn.LogSoftmax(0).forward(v).tolist() as number[];
    expect(new nn.LogSoftmax({ dim: 0 }).forward(v).tolist()).toEqual(logWant);
    expect(logWant[0]).toBeCloseTo(-3.0486, 4);
  });
});

test("to() with a dtype torchlet does not have names it, as the factories do", () => {
  const message = 'Unknown dtype "float16": expected one of float32, float64, int64, bool';
  expect(() => torch.ones([2]).to("float16" as never)).toThrow(message);
  expect(() => torch.ones([2]).to({ dtype: "float16" } as never)).toThrow(message);
  expect(() => torch.zeros([2], { dtype: "float16" as never })).toThrow(message);
});
