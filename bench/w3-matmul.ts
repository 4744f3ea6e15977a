/**
 * W3: matmul of two (n, n) float32 matrices (n = 1024), forward and backward, in ms and GFLOPS.
 *
 * Forward: torchlet `torch.matmul(a, b)` under `noGrad`; tfjs `tf.matMul(a, b)`. 2n³ flops.
 * Backward: torchlet `c.backward(dy)` on a graph built once before the timing (kept with
 * `retainGraph`, so each run is the backward alone: dA = dy·Bᵀ and dB = Aᵀ·dy). tfjs: the two
 * products its MatMul gradient runs, `tf.matMul(dy, b, false, true)` and
 * `tf.matMul(a, dy, true, false)`. 4n³ flops. Before timing, the backward of each peer is also
 * checked through `tf.grads`, so the gradients compared are tfjs's own.
 *
 * tfjs-wasm runs products with a transposed operand outside its fast (XNNPACK) path, about 14×
 * slower here, and its MatMul gradient uses exactly those; results.json also records the same
 * backward with explicit `tf.transpose` first (`tfjsWasmExplicitTransposeMs`), which tf.grads does not do.
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, type Side, errorText, expectAgreement, runsFor, time, timePeer } from "./harness";
import type * as tfjs from "@tensorflow/tfjs-core";
import type { PeerName } from "./peers";

export async function matmulWorkload(ctx: Context): Promise<Row[]> {
  const n = ctx.quick ? 512 : 1024;
  const rng = new Rng(3);
  const A = rng.uniformArray(n * n, -1, 1);
  const B = rng.uniformArray(n * n, -1, 1);
  const dY = rng.uniformArray(n * n, -1, 1);
  const forwardFlops = 2 * n ** 3;
  const backwardFlops = 4 * n ** 3;
  const reference = "tfjs-wasm 38 GFLOPS, tfjs-cpu 0.85, naive JS ~0.9 (spec, 2-core machine)";
  const fwd: Row = {
    name: `W3 matmul ${n}³ forward`,
    unit: "ms",
    better: "lower",
    torchlet: null,
    peers: {},
    target: "≥ 1× tfjs-wasm GFLOPS (issue 16)",
    reference,
    flops: forwardFlops,
    errors: {},
    agreement: {},
  };
  const bwd: Row = { ...fwd, name: `W3 matmul ${n}³ backward (dA, dB)`, flops: backwardFlops, peers: {}, errors: {}, agreement: {} };
  const runs = { torchlet: 5, peer: 5 };
  // One tfjs-cpu product of this size takes many seconds: its kernel is compiled within the
  // first rows of the first run, so that run is timed too (no warm-up, still 5 runs).
  const peerRuns = (name: PeerName): { warmup: number; runs: number } =>
    name === "tfjs-cpu" && !ctx.quick ? { warmup: 0, runs: 5 } : runsFor(ctx, name, runs);

  let C: Float32Array | null = null;
  let dA: Float32Array | null = null;
  let dB: Float32Array | null = null;
  let mineForward: Side | null = null;
  let mineBackward: Side | null = null;
  try {
    const a = torch.Tensor.fromArray(A, [n, n], "float32");
    const b = torch.Tensor.fromArray(B, [n, n], "float32");
    C = Float32Array.from(torch.noGrad(() => torch.matmul(a, b)).toArray());
    mineForward = { fn: () => torch.noGrad(() => torch.matmul(a, b)) };
    const t = time(mineForward.fn, runsFor(ctx, "torchlet", runs));
    fwd.torchlet = t.median;
    fwd.torchletSamples = t.samples;
  } catch (e) {
    fwd.errors!.torchlet = errorText(e);
  }
  try {
    const a = torch.Tensor.fromArray(A.slice(), [n, n], "float32").requiresGrad_();
    const b = torch.Tensor.fromArray(B.slice(), [n, n], "float32").requiresGrad_();
    const dy = torch.Tensor.fromArray(dY, [n, n], "float32");
    const c = torch.matmul(a, b);
    const backward = (): void => c.backward(dy, { retainGraph: true });
    const reset = (): void => {
      a.grad = null;
      b.grad = null;
    };
    backward();
    dA = Float32Array.from(a.grad!.toArray());
    dB = Float32Array.from(b.grad!.toArray());
    mineBackward = { fn: backward, setup: reset };
    const t = time(backward, { ...runsFor(ctx, "torchlet", runs), setup: reset });
    bwd.torchlet = t.median;
    bwd.torchletSamples = t.samples;
  } catch (e) {
    bwd.errors!.torchlet = errorText(e);
  }

  for (const peer of ctx.peers) {
    const name: PeerName = peer.name;
    let tensors: tfjs.Tensor[] = [];
    try {
      await peer.use();
      const tf = peer.tf;
      const a = tf.tensor2d(A, [n, n]);
      const b = tf.tensor2d(B, [n, n]);
      const dy = tf.tensor2d(dY, [n, n]);
      tensors = [a, b, dy];
      if (C !== null) {
        try {
          const c = tf.matMul(a, b);
          (fwd.agreement as Record<string, unknown>)[name] = { product: expectAgreement(`${name} product`, c.dataSync(), C) };
          c.dispose();
          fwd.peers[name] = timePeer(fwd, name, mineForward, { fn: () => tf.matMul(a, b).dispose() }, peerRuns(name));
        } catch (e) {
          fwd.errors![name] = errorText(e);
        }
      }
      if (dA !== null && dB !== null) {
        try {
          const [ga, gb] = tf.grads((x: tfjs.Tensor, y: tfjs.Tensor) => tf.matMul(x, y))([a, b], dy);
          (bwd.agreement as Record<string, unknown>)[name] = {
            dA: expectAgreement(`${name} dA`, ga.dataSync(), dA),
            dB: expectAgreement(`${name} dB`, gb.dataSync(), dB),
          };
          tf.dispose([ga, gb]);
          const theirs = () => {
            tf.matMul(dy, b, false, true).dispose();
            tf.matMul(a, dy, true, false).dispose();
          };
          bwd.peers[name] = timePeer(bwd, name, mineBackward, { fn: theirs }, peerRuns(name));
          if (name === "tfjs-wasm") {
            // For the record: tfjs-wasm's kernel is only fast without transposed operands, and its
            // gradient passes transposed ones. Transposing explicitly first (not what tf.grads does):
            const explicit = time(() => {
              tf.tidy(() => {
                tf.matMul(dy, tf.transpose(b));
                tf.matMul(tf.transpose(a), dy);
              });
            }, peerRuns(name));
            bwd.tfjsWasmExplicitTransposeMs = explicit.median;
            bwd.tfjsWasmExplicitTransposeGflops = backwardFlops / (explicit.median * 1e6);
            bwd.note =
              `tfjs-wasm's gradient multiplies transposed operands, which its wasm kernel runs slowly; ` +
              `with explicit tf.transpose first it would take ${explicit.median.toFixed(0)} ms ` +
              `(${(backwardFlops / (explicit.median * 1e6)).toFixed(1)} GFLOPS)`;
          }
        } catch (e) {
          bwd.errors![name] = errorText(e);
        }
      }
    } catch (e) {
      fwd.errors![name] = bwd.errors![name] = errorText(e);
    } finally {
      peer.tf.dispose(tensors);
    }
  }

  // The same measurements as GFLOPS, each right under its time.
  const asGflops = (row: Row): Row => {
    const rate = (ms: number | null | undefined): number | null => (typeof ms === "number" ? (row.flops as number) / (ms * 1e6) : null);
    const peers: Row["peers"] = {};
    for (const name of ctx.peerNames) if (row.peers[name] !== undefined) peers[name] = rate(row.peers[name]);
    const torchletMs = typeof row.torchlet === "number" ? row.torchlet : null;
    row.gflops = { torchlet: rate(torchletMs), peers };
    return {
      name: row.name.replace(/ \(dA, dB\)$/, "") + " GFLOPS",
      unit: "GFLOPS",
      better: "higher",
      torchlet: rate(torchletMs),
      peers,
      target: row.target,
      targetRatio: 1,
      reference: row.reference,
      errors: row.errors,
    };
  };
  const rows = [fwd, asGflops(fwd), bwd, asGflops(bwd)];
  // The target is on GFLOPS; the time rows carry the speed-up as information only.
  fwd.target = bwd.target = "(see GFLOPS)";
  return rows;
}
