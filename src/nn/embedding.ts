/**
 * Embedding tables: `Embedding` (one row per index, PyTorch's `nn.Embedding`) and `EmbeddingBag`
 * (the sum, mean or max of bags of rows). Both start from N(0, 1) samples of the seeded
 * generator with the padding row zeroed, or from a given table (`fromPretrained`, frozen unless
 * `freeze: false`).
 */
import { Tensor } from "../tensor";
import { embedding } from "../ops/embedding";
import { embeddingBag } from "../ops/indexing";
import { normal_ } from "./init";
import { checkSize, emptyParameter, type FactoryOptions } from "./layers";
import { Module, Parameter } from "./module";
import { pyFloat } from "./repr";
import { checkOptions, optionKeys } from "../options";

/** What both tables share: a starting table (PyTorch's `_weight`) and a padding row. */
interface TableOptions extends FactoryOptions {
  /** Start from this (numEmbeddings, embeddingDim) table instead of N(0, 1) samples (PyTorch's `_weight`); the parameter shares its storage. */
  weight?: Tensor;
  /** Lookups of this row get no gradient (and EmbeddingBag leaves it out of its bags); it starts as zeros. Negative counts from the end. */
  paddingIdx?: number | null;
}

function checkTableSize(numEmbeddings: number, embeddingDim: number, cls: string): void {
  checkSize(numEmbeddings, "num_embeddings", cls);
  checkSize(embeddingDim, "embedding_dim", cls);
}

/** The padding row's index, a negative one counted from the end (PyTorch's constructor checks). */
function paddingIndex(paddingIdx: number | null | undefined, numEmbeddings: number): number | null {
  if (paddingIdx === null || paddingIdx === undefined) return null;
  if (!Number.isInteger(paddingIdx)) throw new Error(`padding_idx must be an integer, got ${paddingIdx}`);
  if (paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) throw new Error("Padding_idx must be within num_embeddings");
  return paddingIdx < 0 ? paddingIdx + numEmbeddings : paddingIdx;
}

/** The table parameter: over the given table's storage, or a new one to be initialised. */
function tableParameter(numEmbeddings: number, embeddingDim: number, options: TableOptions): Parameter {
  const w = options.weight;
  if (w === undefined) return emptyParameter([numEmbeddings, embeddingDim], options.dtype ?? "float32");
  if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
    throw new Error("Shape of weight does not match num_embeddings and embedding_dim");
  }
  return new Parameter(w.detach().to(options.dtype ?? w.dtype));
}

/** `fromPretrained`'s check: the table's (rows, cols). */
function pretrainedShape(embeddings: Tensor): [number, number] {
  if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
  return [embeddings.shape[0], embeddings.shape[1]];
}

/** PyTorch's default: N(0, 1), with the padding row (if any) zeroed. */
function resetTable(weight: Parameter, paddingIdx: number | null): void {
  normal_(weight);
  if (paddingIdx !== null) {
    const dim = weight.shape[1];
    const start = weight.nd.offset + paddingIdx * dim;
    weight.nd.data.fill(0, start, start + dim);
  }
}

export interface EmbeddingOptions extends TableOptions {
  /** Each looked-up row whose `normType`-norm exceeds this is rescaled to it, in place in the table, at every forward. */
  maxNorm?: number | null;
  /** The p of the norm for `maxNorm`. Default 2. */
  normType?: number;
  /** Scale each row's gradient by 1 / (how often the row occurs in the batch). */
  scaleGradByFreq?: boolean;
  /** The table's gradient holds only the rows a batch used (kept compact until read densely). */
  sparse?: boolean;
}

const EMBEDDING_KEYS = optionKeys<EmbeddingOptions>({
  weight: true,
  paddingIdx: true,
  dtype: true,
  maxNorm: true,
  normType: true,
  scaleGradByFreq: true,
  sparse: true,
});
type PretrainedEmbeddingOptions = { freeze?: boolean } & Omit<EmbeddingOptions, "weight" | "dtype">;
const PRETRAINED_EMBEDDING_KEYS = optionKeys<PretrainedEmbeddingOptions>({
  freeze: true,
  paddingIdx: true,
  maxNorm: true,
  normType: true,
  scaleGradByFreq: true,
  sparse: true,
});

/** A lookup table: `forward(indices)` returns the rows of `weight` at int64 `indices` of any shape, shape indices.shape + [embeddingDim]. */
export class Embedding extends Module<[Tensor], Tensor> {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  readonly sparse: boolean;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkOptions("Embedding", options, EMBEDDING_KEYS);
    checkTableSize(numEmbeddings, embeddingDim, "Embedding");
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = paddingIndex(options.paddingIdx, numEmbeddings);
    this.maxNorm = options.maxNorm ?? null;
    this.normType = options.normType ?? 2;
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    this.sparse = options.sparse ?? false;
    this.weight = tableParameter(numEmbeddings, embeddingDim, options);
    if (options.weight === undefined) this.resetParameters();
  }

  /** A lookup over a given table (`Embedding.from_pretrained`), frozen unless `freeze: false`; the padding row is left as given. */
  static fromPretrained(embeddings: Tensor, options: PretrainedEmbeddingOptions = {}): Embedding {
    checkOptions("Embedding.fromPretrained", options, PRETRAINED_EMBEDDING_KEYS);
    const { freeze, ...rest } = options;
    const [rows, cols] = pretrainedShape(embeddings);
    const table = new Embedding(rows, cols, { ...rest, weight: embeddings });
    table.weight.requiresGrad_(!(freeze ?? true));
    return table;
  }

  /** PyTorch's default: N(0, 1), with the padding row (if any) zeroed. */
  resetParameters(): void {
    resetTable(this.weight, this.paddingIdx);
  }

  forward(input: Tensor): Tensor {
    return embedding(input, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
      sparse: this.sparse,
    });
  }

  override extraRepr(): string {
    const parts = [`${this.numEmbeddings}`, `${this.embeddingDim}`];
    if (this.paddingIdx !== null) parts.push(`padding_idx=${this.paddingIdx}`);
    if (this.maxNorm !== null) parts.push(`max_norm=${Number.isInteger(this.maxNorm) ? this.maxNorm : pyFloat(this.maxNorm)}`);
    if (this.normType !== 2) parts.push(`norm_type=${pyFloat(this.normType)}`);
    if (this.scaleGradByFreq) parts.push("scale_grad_by_freq=True");
    if (this.sparse) parts.push("sparse=True");
    return parts.join(", ");
  }
}

export type EmbeddingBagMode = "sum" | "mean" | "max";

export interface EmbeddingBagOptions extends TableOptions {
  /** How a bag's rows are combined; PyTorch's default is `"mean"`. */
  mode?: EmbeddingBagMode;
  /** `offsets` has one more entry: the end of the last bag. */
  includeLastOffset?: boolean;
}

const EMBEDDING_BAG_KEYS = optionKeys<EmbeddingBagOptions>({
  weight: true,
  paddingIdx: true,
  dtype: true,
  mode: true,
  includeLastOffset: true,
});
type PretrainedBagOptions = { freeze?: boolean } & Pick<EmbeddingBagOptions, "mode" | "paddingIdx" | "includeLastOffset">;
const PRETRAINED_BAG_KEYS = optionKeys<PretrainedBagOptions>({ freeze: true, mode: true, paddingIdx: true, includeLastOffset: true });

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
    checkOptions("EmbeddingBag", options, EMBEDDING_BAG_KEYS);
    const mode = options.mode ?? "mean";
    if (mode !== "sum" && mode !== "mean" && mode !== "max") throw new Error("mode has to be one of sum, mean or max");
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.mode = mode;
    this.paddingIdx = paddingIndex(options.paddingIdx, numEmbeddings);
    this.includeLastOffset = options.includeLastOffset ?? false;
    this.weight = tableParameter(numEmbeddings, embeddingDim, options);
    if (options.weight === undefined) this.resetParameters();
  }

  /** A bag layer over a given table (`EmbeddingBag.from_pretrained`), frozen unless `freeze: false`. */
  static fromPretrained(embeddings: Tensor, options: PretrainedBagOptions = {}): EmbeddingBag {
    checkOptions("EmbeddingBag.fromPretrained", options, PRETRAINED_BAG_KEYS);
    const { freeze, ...rest } = options;
    const [rows, cols] = pretrainedShape(embeddings);
    const bag = new EmbeddingBag(rows, cols, { ...rest, weight: embeddings });
    bag.weight.requiresGrad_(!(freeze ?? true));
    return bag;
  }

  /** PyTorch's default: N(0, 1), with the padding row (if any) zeroed. */
  resetParameters(): void {
    resetTable(this.weight, this.paddingIdx);
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
