/**
 * W2: BCEWithLogitsLoss forward + backward on (N, C) float32 logits and multi-hot float32
 * targets (each label on with probability 1%, about 10 per row), mean reduction over all
 * elements. torchlet: `F.binaryCrossEntropyWithLogits(x, t).backward()`. tfjs:
 * `tf.valueAndGrad(x => tf.losses.sigmoidCrossEntropy(t, x))`, whose default reduction is the
 * same mean.
 */
import * as torch from "torchlet";
import {
  AGREEMENT,
  type Context,
  errorText,
  expectAgreement,
  lossRow,
  relativeError,
  Rng,
  type Row,
  runsFor,
  timePeer,
  timeTorchletLoss,
} from "./harness";
import type * as tfjs from "@tensorflow/tfjs-core";

export async function bceWithLogitsWorkload(ctx: Context): Promise<Row[]> {
  const N = ctx.quick ? 1024 : 4096;
  const C = 1000;
  const rng = new Rng(2);
  const logits = rng.normalArray(N * C, 2);
  const multiHot = new Float32Array(N * C);
  for (let i = 0; i < multiHot.length; i++) multiHot[i] = rng.next() < 0.01 ? 1 : 0;
  const row = lossRow(`W2 BCEWithLogits fwd+bwd (${N}, ${C})`, "tfjs-wasm 96 ms, PyTorch 1 thread ~32 ms (spec, 2-core machine)");
  const input = torch.Tensor.fromArray(logits.slice(), [N, C], "float32").requiresGrad_();
  const hot = torch.Tensor.fromArray(multiHot, [N, C], "float32");
  const mine = timeTorchletLoss(ctx, row, input, () => torch.nn.functional.binaryCrossEntropyWithLogits(input, hot));

  for (const peer of ctx.peers) {
    if (mine === null) break;
    try {
      await peer.use();
      const tf = peer.tf;
      const x = tf.tensor2d(logits, [N, C]);
      const labels = tf.tensor2d(multiHot, [N, C]);
      const f = tf.valueAndGrad((l: tfjs.Tensor) => tf.losses.sigmoidCrossEntropy(labels, l));
      try {
        const first = f(x);
        const agreement: Record<string, number | string> = {};
        agreement.gradient = expectAgreement(`${peer.name} gradient`, first.grad.dataSync(), mine.grad);
        const peerLoss = first.value.dataSync()[0];
        agreement.loss = relativeError(peerLoss, mine.loss);
        if (!(agreement.loss <= AGREEMENT)) {
          // tfjs-wasm sums the 4M float32 losses in float32 (off by ~3e-3 at this size); accept
          // the peer only if its unreduced losses agree element by element, and say so.
          const none = tf.losses.sigmoidCrossEntropy(labels, x, undefined, 0, tf.Reduction.NONE);
          const elementwise = torch.nn.functional.binaryCrossEntropyWithLogits(input.detach(), hot, { reduction: "none" }).toArray();
          agreement.elementwise = expectAgreement(`${peer.name} per-element losses`, none.dataSync(), elementwise);
          none.dispose();
          row.note =
            agreement.note = `${peer.name}: its mean loss is off by ${agreement.loss.toExponential(2)} relative (float32 summation of ${N * C} values); per-element losses and gradient agree`;
        }
        (row.agreement as Record<string, unknown>)[peer.name] = agreement;
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
