/**
 * W1: CrossEntropyLoss forward + backward on (N, C) float32 logits with class-index targets,
 * mean reduction. torchlet: `F.crossEntropy(x, y).backward()`, gradient into the leaf `x`.
 * tfjs: `tf.valueAndGrad(x => tf.losses.softmaxCrossEntropy(oneHot, x))`; tfjs takes the targets
 * one-hot, built once outside the timing.
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, type Side, errorText, expectAgreement, oneHot, runsFor, time, timePeer } from "./harness";
import type * as tfjs from "@tensorflow/tfjs-core";

export async function crossEntropyWorkload(ctx: Context): Promise<Row[]> {
  const N = ctx.quick ? 1024 : 4096;
  const C = 1000;
  const rng = new Rng(1);
  const logits = rng.normalArray(N * C, 2);
  const targets = rng.intArray(N, C);
  const row: Row = {
    name: `W1 CrossEntropy fwd+bwd (${N}, ${C})`,
    unit: "ms",
    better: "lower",
    torchlet: null,
    peers: {},
    targetRatio: 3,
    target: "≥ 3× faster than tfjs-wasm",
    reference: "tfjs-wasm 112 ms, tfjs-cpu 2,289 ms, PyTorch 1 thread 12-50 ms (spec, 2-core machine)",
    errors: {},
    agreement: {},
  };

  // torchlet: the reference values, then the timing.
  let lossValue = NaN;
  let gradValues: Float32Array | null = null;
  let mine: Side | null = null;
  try {
    const x = torch.Tensor.fromArray(logits.slice(), [N, C], "float32").requiresGrad_();
    const y = torch.Tensor.fromArray(targets, [N], "int64");
    const step = (): number => {
      const loss = torch.nn.functional.crossEntropy(x, y);
      loss.backward();
      return loss.item();
    };
    lossValue = step();
    gradValues = Float32Array.from(x.grad!.toArray());
    mine = { fn: step, setup: () => (x.grad = null) };
    const t = time(step, { ...runsFor(ctx, "torchlet", { torchlet: 11, peer: 11 }), setup: mine.setup });
    row.torchlet = t.median;
    row.torchletSamples = t.samples;
  } catch (e) {
    row.errors!.torchlet = errorText(e);
  }

  for (const peer of ctx.peers) {
    if (gradValues === null) break;
    try {
      await peer.use();
      const tf = peer.tf;
      const x = tf.tensor2d(logits, [N, C]);
      const labels = tf.tensor2d(oneHot(targets, C), [N, C]);
      const f = tf.valueAndGrad((l: tfjs.Tensor) => tf.losses.softmaxCrossEntropy(labels, l));
      try {
        const first = f(x);
        (row.agreement as Record<string, unknown>)[peer.name] = {
          loss: expectAgreement(`${peer.name} loss`, first.value.dataSync()[0], lossValue),
          gradient: expectAgreement(`${peer.name} gradient`, first.grad.dataSync(), gradValues),
        };
        tf.dispose([first.value, first.grad]);
        const theirs = () => {
          const { value, grad } = f(x);
          tf.dispose([value, grad]);
        };
        row.peers[peer.name] = timePeer(row, peer.name, mine, { fn: theirs }, runsFor(ctx, peer.name, { torchlet: 11, peer: 11 }));
      } finally {
        tf.dispose([x, labels]);
      }
    } catch (e) {
      row.errors![peer.name] = errorText(e);
    }
  }
  row.lossValue = lossValue;
  return [row];
}
