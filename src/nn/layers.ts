/**
 * Layers: `Linear`, `EmbeddingBag`, `Sequential`, `Dropout`, `Flatten`, `Identity` (`ReLU` lives with the
 * other activation modules).
 * Parameters are created and initialised in PyTorch's order from the seeded generator, so
 * `torch.manualSeed(s)` before building a model fixes its initial weights.
 */
import { type DType, allocate, isFloating } from "../dtype";
import { defaultGenerator } from "../random";
import { Tensor } from "../tensor";
import { embeddingBag } from "../ops/indexing";
import { linear } from "../ops/linear";
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
    this.bias = (options.bias ?? true) ? emptyParameter([outFeatures], dtype) : null;
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

export type EmbeddingBagMode = "sum" | "mean" | "max";

export interface EmbeddingBagOptions extends FactoryOptions {
  /** How a bag's rows are combined; PyTorch's default is `"mean"`. */
  mode?: EmbeddingBagMode;
  /** Start from this (numEmbeddings, embeddingDim) table instead of N(0, 1) samples (PyTorch's `_weight`). */
  weight?: Tensor;
  /** This row is left out of every bag (and of a mean's count); it starts as zeros. Negative counts from the end. */
  paddingIdx?: number | null;
  /** `offsets` has one more entry: the end of the last bag. */
  includeLastOffset?: boolean;
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
  readonly paddingIdx: number | null;
  readonly includeLastOffset: boolean;
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
    let padding = options.paddingIdx ?? null;
    if (padding !== null) {
      if (!Number.isInteger(padding)) throw new Error(`padding_idx must be an integer, got ${padding}`);
      if (padding >= numEmbeddings || padding < -numEmbeddings) throw new Error("Padding_idx must be within num_embeddings");
      if (padding < 0) padding += numEmbeddings;
    }
    this.paddingIdx = padding;
    this.includeLastOffset = options.includeLastOffset ?? false;
    if (options.weight !== undefined) {
      const w = options.weight;
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error("Shape of weight does not match num_embeddings and embedding_dim");
      }
      this.weight = new Parameter(w.detach().to(options.dtype ?? w.dtype));
    } else {
      const dtype = options.dtype ?? "float32";
      const table = emptyParameter([numEmbeddings, embeddingDim], dtype);
      this.weight = new Parameter(table);
      this.resetParameters();
    }
  }

  /** A bag layer over a given table (`EmbeddingBag.from_pretrained`), frozen unless `freeze: false`. */
  static fromPretrained(
    embeddings: Tensor,
    options: { freeze?: boolean } & Pick<EmbeddingBagOptions, "mode" | "paddingIdx" | "includeLastOffset"> = {},
  ): EmbeddingBag {
    if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
    const [rows, cols] = embeddings.shape;
    const { freeze: _freeze, ...rest } = options;
    const bag = new EmbeddingBag(rows, cols, { ...rest, weight: embeddings });
    bag.weight.requiresGrad_(!(options.freeze ?? true));
    return bag;
  }

  /** PyTorch's default: N(0, 1), with the padding row (if any) zeroed. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== null) {
      const start = this.weight.nd.offset + this.paddingIdx * this.embeddingDim;
      this.weight.nd.data.fill(0, start, start + this.embeddingDim);
    }
  }

  /** The bags' sums or means, (numBags, embeddingDim). The op checks the indices, offsets and weights. */
  forward(input: Tensor, offsets: Tensor | null = null, perSampleWeights: Tensor | null = null): Tensor {
    return embeddingBag(this.weight, input, offsets, {
      mode: this.mode,
      perSampleWeights,
      paddingIdx: this.paddingIdx,
      includeLastOffset: this.includeLastOffset,
    });
  }

  override extraRepr(): string {
    const padding = this.paddingIdx !== null ? `, padding_idx=${this.paddingIdx}` : "";
    return `${this.numEmbeddings}, ${this.embeddingDim}, mode=${this.mode}${padding}`;
  }
}

/**
 * Runs its modules in order, each one's output the next one's input. Children are named "0", "1", ...
 * Every module it is given takes one tensor and returns one, so the chain's result is a tensor too.
 */
export class Sequential extends Module<[Tensor], Tensor> {
  constructor(...modules: Array<Module<[Tensor], Tensor>> | [Record<string, Module<[Tensor], Tensor>>]) {
    super();
    const named: Array<[string, Module<[Tensor], Tensor>]> =
      modules.length === 1 && !(modules[0] instanceof Module)
        ? Object.entries(modules[0] as Record<string, Module<[Tensor], Tensor>>)
        : (modules as Array<Module<[Tensor], Tensor>>).map((m, i) => [String(i), m]);
    for (const [name, m] of named) this.addModule(name, m);
  }

  /** Registers `module` under `name` (PyTorch's `add_module`). */
  addModule(name: string, module: Module<[Tensor], Tensor>): void {
    if (!(module instanceof Module)) throw new TypeError(`${String(module)} is not a Module subclass`);
    if (name === "" || name.includes(".")) throw new Error(`module name can't contain ".", got: ${name}`);
    if (name in this && !((this as Record<string, unknown>)[name] instanceof Module)) {
      throw new Error(`attribute '${name}' already exists`);
    }
    (this as Record<string, unknown>)[name] = module;
  }

  /** Appends a module at the end, named by its position. */
  append(module: Module<[Tensor], Tensor>): this {
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

  forward(input: Tensor): Tensor {
    let x = input;
    // Children arrive only through addModule, which takes Tensor-to-Tensor modules.
    for (const m of this.children() as Array<Module<[Tensor], Tensor>>) x = m.forward(x);
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
