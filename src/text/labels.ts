/**
 * Class names <-> class indices, for single-label targets (one index per sample, what
 * CrossEntropyLoss takes) and multi-label targets (multi-hot rows, what BCEWithLogitsLoss takes).
 *
 * Order of the classes: by first appearance in the training labels by default, so that the
 * order a dataset lists its classes in is the order of the model's outputs. "sorted" orders by
 * name (code-unit order, independent of locale); "frequency" orders by descending count with
 * ties by first appearance, as fastText does.
 */

export type LabelOrder = "first" | "sorted" | "frequency";

export interface LabelSetJSON {
  names: string[];
}

export class LabelSet {
  readonly names: readonly string[];
  private readonly index: Map<string, number>;

  constructor(names: readonly string[]) {
    this.names = names.slice();
    this.index = new Map();
    for (let i = 0; i < names.length; i++) {
      if (this.index.has(names[i])) throw new Error(`LabelSet: duplicate label ${JSON.stringify(names[i])}`);
      this.index.set(names[i], i);
    }
  }

  /**
   * Collects the classes of a dataset. Each sample's label is a string (single-label) or an
   * array of strings (multi-label).
   */
  static fromLabels(labels: Iterable<string | readonly string[]>, options: { order?: LabelOrder } = {}): LabelSet {
    const order = options.order ?? "first";
    const counts = new Map<string, number>(); // insertion order = first appearance
    const add = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
    for (const label of labels) {
      if (typeof label === "string") add(label);
      else for (const name of label) add(name);
    }
    const names = Array.from(counts.keys());
    if (order === "sorted") {
      names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    } else if (order === "frequency") {
      const first = new Map(names.map((name, i) => [name, i]));
      names.sort((a, b) => counts.get(b)! - counts.get(a)! || first.get(a)! - first.get(b)!);
    } else if (order !== "first") {
      throw new Error(`LabelSet.fromLabels: unknown order ${JSON.stringify(order)}`);
    }
    return new LabelSet(names);
  }

  get size(): number {
    return this.names.length;
  }

  /** The index of `name`, or -1 when it is not a known class. */
  indexOf(name: string): number {
    const i = this.index.get(name);
    return i === undefined ? -1 : i;
  }

  nameOf(index: number): string {
    if (!Number.isInteger(index) || index < 0 || index >= this.names.length) {
      throw new RangeError(`LabelSet.nameOf: index ${index} is out of range [0, ${this.names.length})`);
    }
    return this.names[index];
  }

  /** Single-label targets: one class index per sample. Unknown labels are an error. */
  encode(labels: readonly string[]): Int32Array {
    const out = new Int32Array(labels.length);
    for (let i = 0; i < labels.length; i++) out[i] = this.required(labels[i]);
    return out;
  }

  /**
   * Multi-label targets: a row-major (N, size) multi-hot matrix, 1 where the sample has the
   * class. Unknown labels are an error; repeated labels just set the same 1.
   */
  encodeMultiHot(labels: readonly (readonly string[])[]): Float32Array {
    const C = this.names.length;
    const out = new Float32Array(labels.length * C);
    for (let i = 0; i < labels.length; i++) {
      for (const name of labels[i]) out[i * C + this.required(name)] = 1;
    }
    return out;
  }

  /** Class indices back to names. */
  decode(indices: ArrayLike<number>): string[] {
    return Array.from(indices, (i) => this.nameOf(i));
  }

  toJSON(): LabelSetJSON {
    return { names: this.names.slice() };
  }

  static fromJSON(json: LabelSetJSON): LabelSet {
    return new LabelSet(json.names);
  }

  private required(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw new Error(`LabelSet: unknown label ${JSON.stringify(name)}`);
    return i;
  }
}
