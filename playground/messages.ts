/** What the page and the training worker say to each other (both sides import these types). */

export interface TrainRequest {
  type: "train";
  /** "sample": the SpamAssassin sample built into the page; "pasted": `text`, fastText lines. */
  source: "sample" | "pasted";
  text: string;
  epochs: number;
  lr: number;
  seed: number;
}

export interface PredictRequest {
  type: "predict";
  /** Echoed back, so that the page shows only the answer to the latest keystroke. */
  id: number;
  text: string;
}

export type ToWorker = TrainRequest | PredictRequest;

/** One leaf of the graph and its gradient after the step, summarised for the page. */
export interface LeafGradient {
  /** The leaf's node id in the DOT text (Graphviz writes it into the SVG node's <title>). */
  id: string;
  name: string;
  shape: number[];
  /** The Euclidean norm of the whole gradient. */
  norm: number;
  /** Rows (or elements of a vector) whose gradient is not all zero, and how many rows there are. */
  nonzeroRows: number;
  rows: number;
  /** Up to a few nonzero rows: what the row stands for (a word, a class) and its first values. */
  preview: Array<{ row: number; meaning: string; values: number[] }>;
}

export type FromWorker =
  | { type: "backend"; wasm: boolean }
  | { type: "data"; train: number; test: number; labels: string[]; task: string }
  | { type: "progress"; step: number; epoch: number; loss: number }
  | { type: "epoch"; step: number; epoch: number; epochs: number; loss: number; accuracy: number }
  | { type: "done"; accuracy: number; correct: number; total: number; seconds: number }
  | { type: "graph"; dot: string; leaves: LeafGradient[]; batch: number }
  | { type: "prediction"; id: number; scores: Array<{ label: string; probability: number }> }
  | { type: "error"; message: string };
