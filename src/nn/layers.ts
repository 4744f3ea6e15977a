/**
 * Layers: `Linear`, `EmbeddingBag`, `Sequential`, `Dropout`, `Flatten`, `Identity` (`ReLU` lives with the
 * other activation modules).
 * Parameters are created and initialised in PyTorch's order from the seeded generator, so
 * `torch.manualSeed(s)` before building a model fixes its initial weights.
 */
import { type DType, allocate, isFloating } from "../dtype";
import { defaultGenerator } from "../random";
import { Tensor } from "../tensor";
import * as indexing from "../ops/indexing";
// TEMP until indexing.ts lands.
type EmbeddingBagFn = (weight: Tensor, indices: Tensor, offsets: Tensor, options: { mode: string; perSampleWeights?: Tensor }) => Tensor;
const embeddingBag: EmbeddingBagFn = (...args) => (indexing as unknown as { embeddingBag: EmbeddingBagFn }).embeddingBag(...args);
import { linear } from "../ops/linear";
import { accumulateRowSparse, markRowSparse } from "../ops/row-sparse";
import { normal_, resetLinear } from "./init";
import { Module, Parameter } from "./module";

export interface FactoryOptions {
  /** The parameters' dtype, `"float32"` unless given. */
  dtype?: DType;
}

function checkSize(value: number, what: string, cls: string): void {
  if (!Number.isInteger(value) || value < 0) {
    throw new Error(`${cls}: ${what} must be a non-negative integer, got ${value}`);
  }
}

function emptyParameter(shape: number[], dtype: DType): Parameter {
  if (!isFloating(dtype)) throw new Error("only Tensors of floating point dtype can require gradients");
  let n = 1;
  for (const s of shape) n *= s;
  return new Parameter(Tensor.fromArray(allocate(dtype, n), shape, dtype));
}

/** y = x W^T + b, with W of shape (outFeatures, inFeatures). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } & FactoryOptions = {}) {
    super();
    checkSize(inFeatures, "in_features", "Linear");
    checkSize(outFeatures, "out_features", "Linear");
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const dtype = options.dtype ?? "float32";
    this.weight = emptyParameter([outFeatures, inFeatures], dtype);
    this.bias = options.bias ?? true ? emptyParameter([outFeatures], dtype) : null;
    this.resetParameters();
  }

  /** PyTorch's default: kaiming_uniform_(a=sqrt(5)) for the weight, U(-1/sqrt(in), 1/sqrt(in)) for the bias. */
  resetParameters(): void {
    resetLinear(this.weight, this.bias);
  }

  forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? "True" : "False"}`;
  }
}

/**
 * An embedding table whose gradient stays row-sparse: only the rows that a batch used are
 * accumulated, zeroed and (by SGD without momentum or weight decay) updated.
 */
export class EmbeddingParameter extends Parameter {
  constructor(data: Tensor, requiresGrad = true) {
    super(data, requiresGrad);
    markRowSparse(this);
  }

  override accumulateGrad(g: Tensor): void {
    if (!accumulateRowSparse(this, g)) super.accumulateGrad(g);
  }
}

export type EmbeddingBagMode = "sum" | "mean" | "max";

export interface EmbeddingBagOptions extends FactoryOptions {
  /** How a bag's rows are combined; PyTorch's default is `"mean"`. */
  mode?: EmbeddingBagMode;
  /** Start from this (numEmbeddings, embeddingDim) table instead of N(0, 1) samples (PyTorch's `_weight`). */
  weight?: Tensor;
}

/**
 * Sums or averages the embeddings of each bag of indices without materialising them:
 * `forward(indices, offsets)` with 1-D int64 `indices` and `offsets` (the start of each bag),
 * or a 2-D (B, L) `indices` of fixed-length bags and no offsets.
 */
export class EmbeddingBag extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly mode: EmbeddingBagMode;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingBagOptions = {}) {
    super();
    checkSize(numEmbeddings, "num_embeddings", "EmbeddingBag");
    checkSize(embeddingDim, "embedding_dim", "EmbeddingBag");
    const mode = options.mode ?? "mean";
    if (mode !== "sum" && mode !== "mean" && mode !== "max") throw new Error("mode has to be one of sum, mean or max");
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.mode = mode;
    if (options.weight !== undefined) {
      const w = options.weight;
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error("Shape of weight does not match num_embeddings and embedding_dim");
      }
      this.weight = new EmbeddingParameter(w.detach().to(options.dtype ?? w.dtype));
    } else {
      const dtype = options.dtype ?? "float32";
      const table = emptyParameter([numEmbeddings, embeddingDim], dtype);
      this.weight = new EmbeddingParameter(table);
      this.resetParameters();
    }
  }

  /** A bag layer over a given table (`EmbeddingBag.from_pretrained`), frozen unless `freeze: false`. */
  static fromPretrained(embeddings: Tensor, options: { freeze?: boolean; mode?: EmbeddingBagMode } = {}): EmbeddingBag {
    if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
    const [rows, cols] = embeddings.shape;
    const bag = new EmbeddingBag(rows, cols, { mode: options.mode, weight: embeddings });
    bag.weight.requiresGrad_(!(options.freeze ?? true));
    return bag;
  }

  /** PyTorch's default: N(0, 1). */
  resetParameters(): void {
    normal_(this.weight);
  }

  forward(input: Tensor, offsets: Tensor | null = null, perSampleWeights: Tensor | null = null): Tensor {
    if (!(input instanceof Tensor)) throw new TypeError(`EmbeddingBag.forward: input must be a Tensor, not ${typeof input}`);
    if (perSampleWeights !== null && this.mode !== "sum") {
      throw new Error(
        `embedding_bag: per_sample_weights was not None. per_sample_weights is only supported for mode='sum' (got mode='${this.mode}'). Please open a feature request on GitHub.`,
      );
    }
    if (perSampleWeights !== null && perSampleWeights.shape.join(",") !== input.shape.join(",")) {
      throw new Error(
        `embedding_bag: If per_sample_weights (${JSON.stringify(perSampleWeights.shape)}) is not None, then it must have the same shape as the input (${JSON.stringify(input.shape)})`,
      );
    }
    if (input.ndim === 2) {
      if (offsets !== null && offsets !== undefined) {
        throw new Error(
          "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. However, found offsets of type Tensor",
        );
      }
      const [bags, length] = input.shape;
      const starts = allocate("int64", bags);
      for (let b = 0; b < bags; b++) starts[b] = b * length;
      offsets = Tensor.fromArray(starts, [bags], "int64");
      input = input.reshape([-1]);
      if (perSampleWeights !== null) perSampleWeights = perSampleWeights.reshape([-1]);
    } else if (input.ndim === 1) {
      if (offsets === null || offsets === undefined) throw new Error("offsets has to be a 1D Tensor but got None");
      if (offsets.ndim !== 1) throw new Error("offsets has to be a 1D Tensor");
    } else {
      throw new Error(`input has to be 1D or 2D Tensor, but got Tensor of dimension ${input.ndim}`);
    }
    return embeddingBag(this.weight, input, offsets, {
      mode: this.mode,
      ...(perSampleWeights !== null ? { perSampleWeights } : {}),
    } as Parameters<typeof embeddingBag>[3]);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}, mode=${this.mode}`;
  }
}

/** Runs its modules in order, each one's output the next one's input. Children are named "0", "1", ... */
export class Sequential extends Module {
  constructor(...modules: Module[] | [Record<string, Module>]) {
    super();
    const named: Array<[string, Module]> =
      modules.length === 1 && !(modules[0] instanceof Module)
        ? Object.entries(modules[0] as Record<string, Module>)
        : (modules as Module[]).map((m, i) => [String(i), m]);
    for (const [name, m] of named) this.addModule(name, m);
  }

  /** Registers `module` under `name` (PyTorch's `add_module`). */
  addModule(name: string, module: Module): void {
    if (!(module instanceof Module)) throw new TypeError(`${String(module)} is not a Module subclass`);
    if (name === "" || name.includes(".")) throw new Error(`module name can't contain ".", got: ${name}`);
    if (name in this && !((this as Record<string, unknown>)[name] instanceof Module)) {
      throw new Error(`attribute '${name}' already exists`);
    }
    (this as Record<string, unknown>)[name] = module;
  }

  /** Appends a module at the end, named by its position. */
  append(module: Module): this {
    this.addModule(String(this.length), module);
    return this;
  }

  get length(): number {
    return this.children().length;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): Module {
    const children = this.children();
    const i = index < 0 ? index + children.length : index;
    if (!Number.isInteger(i) || i < 0 || i >= children.length) throw new RangeError(`index ${index} is out of range`);
    return children[i];
  }

  [Symbol.iterator](): Iterator<Module> {
    return this.children()[Symbol.iterator]();
  }

  forward(input: any): any {
    let x = input;
    for (const m of this.children()) x = m.forward(x);
    return x;
  }
}

export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** Collapses dims startDim..endDim into one. */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/**
 * Zeroes each element with probability `p` while training and scales the rest by 1/(1-p); the
 * identity in eval mode. The mask comes from the seeded generator; the node is `MulBackward0`,
 * as PyTorch records dropout on the CPU.
 */
export class Dropout extends Module {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
      throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
    }
    this.p = p;
  }

  forward(input: Tensor): Tensor {
    return dropout(input, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${Number.isInteger(this.p) ? this.p.toFixed(1) : this.p}, inplace=False`;
  }
}

/** `torch.nn.functional.dropout`. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  }
  if (!training || p === 0 || input.numel() === 0) return input;
  if (!isFloating(input.dtype)) throw new Error(`"bernoulli_" not implemented for '${input.dtype === "int64" ? "Long" : "Bool"}'`);
  const n = input.numel();
  const noise = allocate(input.dtype, n);
  if (p < 1) {
    const keep = 1 - p;
    const scale = 1 / keep;
    for (let i = 0; i < n; i++) noise[i] = defaultGenerator.random() < keep ? scale : 0;
  }
  return input.mul(Tensor.fromArray(noise, input.shape, input.dtype));
}
