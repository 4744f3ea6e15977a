/**
 * W1: CrossEntropyLoss forward + backward on (N, C) float32 logits with class-index targets,
 * mean reduction. torchlet: `F.crossEntropy(x, y).backward()`, gradient into the leaf `x`.
 * tfjs: `tf.valueAndGrad(x => tf.losses.softmaxCrossEntropy(oneHot, x))`; tfjs takes the targets
 * one-hot, built once outside the timing.
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, errorText, expectAgreement, lossRow, oneHot, runsFor, timePeer, timeTorchletLoss } from "./harness";
import type * as tfjs from "@tensorflow/tfjs-core";

export async function crossEntropyWorkload(ctx: Context): Promise<Row[]> {
  const N = ctx.quick ? 1024 : 4096;
  const C = 1000;
  const rng = new Rng(1);
  const logits = rng.normalArray(N * C, 2);
  const targets = rng.intArray(N, C);
  const row = lossRow(
    `W1 CrossEntropy fwd+bwd (${N}, ${C})`,
    "tfjs-wasm 112 ms, tfjs-cpu 2,289 ms, PyTorch 1 thread 12-50 ms (spec, 2-core machine)",
  );
  const input = torch.Tensor.fromArray(logits.slice(), [N, C], "float32").requiresGrad_();
  const classes = torch.Tensor.fromArray(targets, [N], "int64");
  const mine = timeTorchletLoss(ctx, row, input, () => torch.nn.functional.crossEntropy(input, classes));

  for (const peer of ctx.peers) {
    if (mine === null) break;
    try {
      await peer.use();
      const tf = peer.tf;
      const x = tf.tensor2d(logits, [N, C]);
      const labels = tf.tensor2d(oneHot(targets, C), [N, C]);
      const f = tf.valueAndGrad((l: tfjs.Tensor) => tf.losses.softmaxCrossEntropy(labels, l));
      try {
        const first = f(x);
        (row.agreement as Record<string, unknown>)[peer.name] = {
          loss: expectAgreement(`${peer.name} loss`, first.value.dataSync()[0], mine.loss),
          gradient: expectAgreement(`${peer.name} gradient`, first.grad.dataSync(), mine.grad),
        };
        tf.dispose([first.value, first.grad]);
        const theirs = () => {
          const { value, grad } = f(x);
          tf.dispose([value, grad]);
        };
        row.peers[peer.name] = timePeer(row, peer.name, mine.side, { fn: theirs }, runsFor(ctx, peer.name, { torchlet: 11, peer: 11 }));
      } finally {
        tf.dispose([x, labels]);
      }
    } catch (e) {
      row.errors![peer.name] = errorText(e);
    }
  }
  row.lossValue = mine?.loss ?? NaN;
  return [row];
}
