/**
 * W7: small models, where a training step costs per op rather than per element (issue 16). Three
 * rows, each a whole short training run from the same initial weights:
 *
 * - an MLP 16→32→32→1 with tanh and a mean squared error, batch 32, 50 steps of SGD with momentum
 *   (lr 0.01, momentum 0.9), one fresh batch per step;
 * - the same MLP and batches with Adam (lr 1e-3);
 * - a micrograd-sized scalar graph: an MLP 2→8→8→1 built from 1-element tensors (each weight its
 *   own 0-d parameter, each neuron `b + w0·x0 + w1·x1 + ...` one multiply and one add at a time,
 *   then tanh), the squared errors of 8 samples summed one by one and scaled by 1/8, 10 steps of
 *   SGD with momentum over its 105 parameters: about 1,600 ops forward and as many backward per step.
 *
 * torchlet: `nn.Sequential(Linear, Tanh, ...)`, `F.mseLoss`, `optim.SGD`/`optim.Adam`, and for the
 * scalar graph `w.mul(x)`, `.add`, `.tanh()`, `.sub` on 0-d tensors. tfjs: the same layers as
 * `tf.matMul(x, W, false, true)` + b and `tf.tanh`, `tf.losses.meanSquaredError`,
 * `tf.train.momentum`/`tf.train.adam` and `optimizer.minimize`; the scalar graph with `tf.mul`,
 * `tf.add`, `tf.tanh`, `tf.sub` on scalar variables. PyTorch 1.13 (bench/pytorch/w7.py, one
 * thread) runs the same three on the same inputs, passed to it as a JSON file, when
 * /usr/bin/python3 has torch.
 *
 * Agreement, before any timing: every implementation's 50 (or 10) losses, its gradients after
 * the first backward and its parameters after the last step must agree with torchlet's.
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, type Side, errorText, expectAgreement, runsFor, time, timePeer } from "./harness";
import { type PytorchResult, runPytorch } from "./pytorch";
import type * as tfjs from "@tensorflow/tfjs-core";

/** What a training run sees: layer sizes, per-step batches, the initial weights and the optimizer. */
export interface SmallModelSpec {
  /** "mlpSgd", "mlpAdam", "scalarSgd": the key bench/pytorch/w7.py answers under. */
  key: string;
  /** Layer widths, input first: [16, 32, 32, 1]. */
  sizes: number[];
  batch: number;
  steps: number;
  /** Per step: the batch's inputs (batch × sizes[0]) and targets (batch × 1), row-major. */
  inputs: Float32Array[];
  targets: Float32Array[];
  /** W1, b1, W2, b2, ... with each W (out, in) row-major, as nn.Linear keeps it. */
  init: Float32Array[];
  optimizer: { kind: "sgd"; lr: number; momentum: number } | { kind: "adam"; lr: number };
  /** Built from 1-element tensors, one multiply or add at a time. */
  scalar: boolean;
}

/** One implementation's record of a run: the loss of each step, the first step's gradients, the final weights. */
export interface Outcome {
  losses: number[];
  grads: number[];
  params: number[];
}

/** An implementation of a spec: `reset` (not timed) restores the initial weights and a fresh optimizer; `train` runs every step. */
export interface Trainer {
  reset(): void;
  train(): void;
  /** A recorded run (after a reset): what the agreement check compares. */
  outcome(): Outcome;
  dispose?(): void;
}

// ---- inputs ---------------------------------------------------------------------------------

function makeSpec(
  key: string,
  seed: number,
  sizes: number[],
  batch: number,
  steps: number,
  optimizer: SmallModelSpec["optimizer"],
  scalar: boolean,
): SmallModelSpec {
  const rng = new Rng(seed);
  const inF = sizes[0];
  // Targets from a fixed random teacher, tanh(x · v), so that the loss has something to learn.
  const teacher = rng.normalArray(inF, 1 / Math.sqrt(inF));
  const inputs: Float32Array[] = [];
  const targets: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const x = rng.normalArray(batch * inF);
    const y = new Float32Array(batch);
    for (let r = 0; r < batch; r++) {
      let dot = 0;
      for (let i = 0; i < inF; i++) dot += x[r * inF + i] * teacher[i];
      y[r] = Math.tanh(dot);
    }
    inputs.push(x);
    targets.push(y);
  }
  // nn.Linear's default initialisation: U(-1/sqrt(in), 1/sqrt(in)) for the weight and the bias.
  const init: Float32Array[] = [];
  for (let l = 1; l < sizes.length; l++) {
    const bound = 1 / Math.sqrt(sizes[l - 1]);
    init.push(rng.uniformArray(sizes[l] * sizes[l - 1], -bound, bound), rng.uniformArray(sizes[l], -bound, bound));
  }
  return { key, sizes, batch, steps, inputs, targets, init, optimizer, scalar };
}

export function smallModelSpecs(): SmallModelSpec[] {
  const mlp = [16, 32, 32, 1];
  return [
    makeSpec("mlpSgd", 7, mlp, 32, 50, { kind: "sgd", lr: 0.01, momentum: 0.9 }, false),
    makeSpec("mlpAdam", 7, mlp, 32, 50, { kind: "adam", lr: 1e-3 }, false),
    makeSpec("scalarSgd", 8, [2, 8, 8, 1], 8, 10, { kind: "sgd", lr: 0.05, momentum: 0.9 }, true),
  ];
}

/** The initial weights cut into the given sizes, in order (one per 0-d parameter of the scalar graph). */
function initialValues(spec: SmallModelSpec, sizes: number[]): Float32Array[] {
  const all = new Float32Array(spec.init.reduce((n, w) => n + w.length, 0));
  let at = 0;
  for (const w of spec.init) {
    all.set(w, at);
    at += w.length;
  }
  at = 0;
  return sizes.map((n) => all.subarray(at, (at += n)));
}

function describe(spec: SmallModelSpec): string {
  const net = spec.sizes.join("→");
  if (spec.scalar) return `W7 scalar graph MLP ${net} of 0-d tensors, ${spec.batch} samples, ${spec.steps} SGD-momentum steps`;
  const opt = spec.optimizer.kind === "sgd" ? "SGD-momentum" : "Adam";
  return `W7 MLP ${net} tanh MSE, batch ${spec.batch}, ${spec.steps} ${opt} steps`;
}

// ---- torchlet ---------------------------------------------------------------------------------

function torchletOptimizer(spec: SmallModelSpec, params: torch.Tensor[]): torch.optim.Optimizer {
  const o = spec.optimizer;
  return o.kind === "sgd" ? new torch.optim.SGD(params, { lr: o.lr, momentum: o.momentum }) : new torch.optim.Adam(params, { lr: o.lr });
}

/** Trains `params` with `loss(step)`, the optimizer made fresh at each reset. */
function torchletTrainer(spec: SmallModelSpec, params: torch.Tensor[], loss: (step: number) => torch.Tensor): Trainer {
  let optimizer = torchletOptimizer(spec, params);
  const initial = initialValues(
    spec,
    params.map((p) => p.numel()),
  );
  const reset = (): void => {
    params.forEach((p, i) => {
      (p.toArray() as Float32Array).set(initial[i]);
      p.grad = null;
    });
    optimizer = torchletOptimizer(spec, params);
  };
  return {
    reset,
    train() {
      for (let s = 0; s < spec.steps; s++) {
        optimizer.zeroGrad();
        loss(s).backward();
        optimizer.step();
      }
    },
    outcome() {
      reset();
      const losses: number[] = [];
      let grads: number[] = [];
      for (let s = 0; s < spec.steps; s++) {
        optimizer.zeroGrad();
        const value = loss(s);
        value.backward();
        if (s === 0) grads = params.flatMap((p) => Array.from(p.grad!.toArray()));
        optimizer.step();
        losses.push(value.item());
      }
      return { losses, grads, params: params.flatMap((p) => Array.from(p.toArray())) };
    },
  };
}

function torchletMlp(spec: SmallModelSpec): Trainer {
  const { sizes, batch } = spec;
  const layers: torch.nn.Module<[torch.Tensor], torch.Tensor>[] = [];
  for (let l = 1; l < sizes.length; l++) {
    if (l > 1) layers.push(new torch.nn.Tanh());
    layers.push(new torch.nn.Linear(sizes[l - 1], sizes[l]));
  }
  const model = new torch.nn.Sequential(...layers);
  const xs = spec.inputs.map((x) => torch.Tensor.fromArray(x, [batch, sizes[0]], "float32"));
  const ys = spec.targets.map((y) => torch.Tensor.fromArray(y, [batch, 1], "float32"));
  return torchletTrainer(spec, model.parameters(), (s) => torch.nn.functional.mseLoss(model.forward(xs[s]), ys[s]));
}

/** Layer by layer, the 0-d weights W[j][i] and biases b[j] in the order of `spec.init`. */
function scalarLayers<T>(spec: SmallModelSpec, leaf: (value: number) => T): Array<{ w: T[][]; b: T[] }> {
  const layers: Array<{ w: T[][]; b: T[] }> = [];
  for (let l = 1; l < spec.sizes.length; l++) {
    const [inF, outF] = [spec.sizes[l - 1], spec.sizes[l]];
    const W = spec.init[2 * (l - 1)];
    const B = spec.init[2 * (l - 1) + 1];
    layers.push({
      w: Array.from({ length: outF }, (_, j) => Array.from({ length: inF }, (_, i) => leaf(W[j * inF + i]))),
      b: Array.from({ length: outF }, (_, j) => leaf(B[j])),
    });
  }
  return layers;
}

/** The operations the scalar graph is written in, so that every implementation runs the very same graph. */
interface ScalarOps<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  tanh(a: T): T;
}

/** The mean squared error of the scalar MLP over one step's samples, one op at a time (micrograd's order). */
function scalarLoss<T>(ops: ScalarOps<T>, layers: Array<{ w: T[][]; b: T[] }>, xs: T[][], ys: T[], invBatch: T): T {
  let total: T | null = null;
  xs.forEach((x, s) => {
    let h = x;
    layers.forEach(({ w, b }, l) => {
      h = w.map((row, j) => {
        let acc = b[j];
        for (let i = 0; i < row.length; i++) acc = ops.add(acc, ops.mul(row[i], h[i]));
        return l < layers.length - 1 ? ops.tanh(acc) : acc;
      });
    });
    const d = ops.sub(h[0], ys[s]);
    const sq = ops.mul(d, d);
    total = total === null ? sq : ops.add(total, sq);
  });
  return ops.mul(total!, invBatch);
}

/** Per step, its samples' inputs and targets as 1-element values made by `leaf`. */
function scalarData<T>(spec: SmallModelSpec, leaf: (value: number) => T): { xs: T[][][]; ys: T[][] } {
  const inF = spec.sizes[0];
  const xs = spec.inputs.map((x) => Array.from({ length: spec.batch }, (_, r) => Array.from(x.subarray(r * inF, (r + 1) * inF), leaf)));
  const ys = spec.targets.map((y) => Array.from(y, leaf));
  return { xs, ys };
}

const TORCHLET_SCALAR_OPS: ScalarOps<torch.Tensor> = {
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  tanh: (a) => a.tanh(),
};

function torchletScalar(spec: SmallModelSpec): Trainer {
  const layers = scalarLayers(spec, (v) => torch.tensor(v, { requiresGrad: true }));
  const params = layers.flatMap(({ w, b }) => [...w.flat(), ...b]);
  const { xs, ys } = scalarData(spec, (v) => torch.tensor(v));
  const invBatch = torch.tensor(1 / spec.batch);
  return torchletTrainer(spec, params, (s) => scalarLoss(TORCHLET_SCALAR_OPS, layers, xs[s], ys[s], invBatch));
}

// ---- tfjs ---------------------------------------------------------------------------------------

function tfjsOptimizer(tf: typeof tfjs, spec: SmallModelSpec): tfjs.Optimizer {
  const o = spec.optimizer;
  // tfjs's momentum and Adam are PyTorch's update rules (Adam's eps is added after the bias-corrected square root in both).
  return o.kind === "sgd" ? tf.train.momentum(o.lr, o.momentum) : tf.train.adam(o.lr, 0.9, 0.999, 1e-8);
}

/** Trains `vars` (tf variables, in the order of `spec.init`, holding `shapes`) on `loss(step)` with `optimizer.minimize`. */
function tfjsTrainer(
  tf: typeof tfjs,
  spec: SmallModelSpec,
  vars: tfjs.Variable[],
  loss: (step: number) => tfjs.Scalar,
  owned: tfjs.Tensor[],
): Trainer {
  let optimizer = tfjsOptimizer(tf, spec);
  const initial = initialValues(
    spec,
    vars.map((v) => v.size),
  ).map((values, i) => tf.tensor(values, vars[i].shape));
  const reset = (): void => {
    vars.forEach((v, i) => v.assign(initial[i]));
    optimizer.dispose();
    optimizer = tfjsOptimizer(tf, spec);
  };
  return {
    reset,
    train() {
      for (let s = 0; s < spec.steps; s++) optimizer.minimize(() => loss(s), false, vars);
    },
    outcome() {
      reset();
      const losses: number[] = [];
      const first = tf.variableGrads(() => loss(0), vars);
      const grads = vars.flatMap((v) => Array.from(first.grads[v.name].dataSync()));
      losses.push(first.value.dataSync()[0]);
      optimizer.applyGradients(first.grads);
      tf.dispose([first.value, ...Object.values(first.grads)]);
      for (let s = 1; s < spec.steps; s++) {
        const cost = optimizer.minimize(() => loss(s), true, vars)!;
        losses.push(cost.dataSync()[0]);
        cost.dispose();
      }
      return { losses, grads, params: vars.flatMap((v) => Array.from(v.dataSync())) };
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([...vars, ...initial, ...owned]);
    },
  };
}

function tfjsMlp(tf: typeof tfjs, spec: SmallModelSpec): Trainer {
  const { sizes, batch } = spec;
  const vars: tfjs.Variable[] = [];
  for (let l = 1; l < sizes.length; l++) {
    vars.push(tf.variable(tf.tensor2d(spec.init[2 * (l - 1)], [sizes[l], sizes[l - 1]])));
    vars.push(tf.variable(tf.tensor1d(spec.init[2 * (l - 1) + 1])));
  }
  const xs = spec.inputs.map((x) => tf.tensor2d(x, [batch, sizes[0]]));
  const ys = spec.targets.map((y) => tf.tensor2d(y, [batch, 1]));
  const forward = (x: tfjs.Tensor): tfjs.Tensor => {
    let h = x;
    for (let l = 0; l < vars.length / 2; l++) {
      if (l > 0) h = tf.tanh(h);
      // nn.Linear: x @ W^T + b, with W kept (out, in).
      h = tf.add(tf.matMul(h, vars[2 * l], false, true), vars[2 * l + 1]);
    }
    return h;
  };
  return tfjsTrainer(tf, spec, vars, (s) => tf.losses.meanSquaredError(ys[s], forward(xs[s])) as tfjs.Scalar, [...xs, ...ys]);
}

function tfjsScalar(tf: typeof tfjs, spec: SmallModelSpec): Trainer {
  const layers = scalarLayers(spec, (v) => tf.variable(tf.scalar(v)));
  const vars = layers.flatMap(({ w, b }) => [...w.flat(), ...b]);
  const { xs, ys } = scalarData(spec, (v) => tf.scalar(v));
  const invBatch = tf.scalar(1 / spec.batch);
  const ops: ScalarOps<tfjs.Tensor> = { add: tf.add, sub: tf.sub, mul: tf.mul, tanh: tf.tanh };
  const loss = (s: number) => scalarLoss(ops, layers, xs[s], ys[s], invBatch) as tfjs.Scalar;
  return tfjsTrainer(tf, spec, vars, loss, [...xs.flat(2), ...ys.flat(), invBatch]);
}

// ---- the workload -------------------------------------------------------------------------------

function checkOutcome(who: string, got: Outcome, want: Outcome): Record<string, number> {
  return {
    losses: expectAgreement(`${who} losses`, got.losses, want.losses),
    firstGradients: expectAgreement(`${who} first gradients`, got.grads, want.grads),
    finalParameters: expectAgreement(`${who} final parameters`, got.params, want.params),
  };
}

/** torchlet's trainer for a spec (exported for profiling a run alone). */
export function torchletTrainerFor(spec: SmallModelSpec): Trainer {
  return spec.scalar ? torchletScalar(spec) : torchletMlp(spec);
}

function sideOf(trainer: Trainer): Side {
  return { fn: () => trainer.train(), setup: () => trainer.reset() };
}

export async function smallModelsWorkload(ctx: Context): Promise<Row[]> {
  const specs = smallModelSpecs();
  const rows: Row[] = [];
  const mine = new Map<SmallModelSpec, { outcome: Outcome; side: Side }>();
  const runs = { torchlet: 21, peer: 21 };
  for (const spec of specs) {
    const row: Row = {
      name: describe(spec),
      unit: "ms",
      better: "lower",
      torchlet: null,
      peers: {},
      pytorch: null,
      targetRatio: 3,
      target: "≥ 3× faster than tfjs-wasm; faster than PyTorch",
      reference: spec.key === "mlpSgd" ? "issue 16: torchlet 35 ms, tfjs-wasm 49 ms, PyTorch 1 thread 13-14 ms" : undefined,
      errors: {},
      agreement: {},
    };
    rows.push(row);
    try {
      const trainer = torchletTrainerFor(spec);
      const outcome = trainer.outcome();
      const side = sideOf(trainer);
      mine.set(spec, { outcome, side });
      const t = time(side.fn, { ...runsFor(ctx, "torchlet", runs), setup: side.setup });
      row.torchlet = t.median;
      row.torchletSamples = t.samples;
      row.losses = [outcome.losses[0], outcome.losses[outcome.losses.length - 1]];
    } catch (e) {
      row.errors!.torchlet = errorText(e);
    }
  }

  for (const peer of ctx.peers) {
    await peer.use();
    specs.forEach((spec, k) => {
      const row = rows[k];
      const ours = mine.get(spec);
      if (!ours) return;
      let trainer: Trainer | null = null;
      try {
        trainer = spec.scalar ? tfjsScalar(peer.tf, spec) : tfjsMlp(peer.tf, spec);
        (row.agreement as Record<string, unknown>)[peer.name] = checkOutcome(peer.name, trainer.outcome(), ours.outcome);
        row.peers[peer.name] = timePeer(row, peer.name, ours.side, sideOf(trainer), runsFor(ctx, peer.name, runs));
      } catch (e) {
        row.errors![peer.name] = errorText(e);
      } finally {
        trainer?.dispose?.();
      }
    });
  }

  const pytorch = runPytorch(
    "w7.py",
    specs.filter((s) => mine.has(s)),
    ctx,
  );
  specs.forEach((spec, k) => recordPytorch(rows[k], pytorch, spec, mine.get(spec)?.outcome));
  for (const row of rows) cpuNote(row);
  return rows;
}

/** The CPU-time medians under the table: on a shared machine they move less than the wall times above them. */
function cpuNote(row: Row): void {
  const cpu = row.cpuMs as Record<string, number | undefined> | undefined;
  if (!cpu) return;
  const figures = Object.entries(cpu).filter((e): e is [string, number] => typeof e[1] === "number");
  if (figures.length > 0) row.note = `CPU time (median, ms): ${figures.map(([who, ms]) => `${who} ${ms.toFixed(2)}`).join(", ")}`;
}

/** PyTorch's figure for a row, once its run agrees with torchlet's. */
function recordPytorch(row: Row, pytorch: PytorchResult, spec: SmallModelSpec, ours: Outcome | undefined): void {
  if (pytorch.skipped) {
    row.pytorchSkipped = pytorch.skipped;
    return;
  }
  const theirs = pytorch.results?.[spec.key];
  if (!ours || !theirs) return;
  try {
    (row.agreement as Record<string, unknown>).pytorch = checkOutcome("PyTorch", theirs, ours);
    row.pytorch = theirs.median;
    row.pytorchSamples = theirs.samples;
    row.cpuMs = { ...(row.cpuMs as object), pytorch: theirs.cpuMedian };
    row.vsPytorch = typeof row.torchlet === "number" ? theirs.median / row.torchlet : null;
  } catch (e) {
    row.errors!.pytorch = errorText(e);
  }
}
