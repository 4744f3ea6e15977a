/**
 * W4: one SGD step of a bag-of-words classifier. Vocabulary V = 20,000 words, C = 20 classes,
 * a batch of 256 documents of 80-120 words drawn with Zipf frequencies; mean cross entropy;
 * SGD with lr 0.1.
 *
 * torchlet, the sparse formulation: `EmbeddingBag(V, C, mode "sum")` over the documents' word ids
 * (indices + offsets) plus a bias, so the logits are the sums of the words' rows; the backward
 * touches only the rows the batch used, and so does SGD.
 *
 * tfjs, the dense formulation it needs: the (256, V) word-count matrix times W (V, C) plus b,
 * `tf.losses.softmaxCrossEntropy` and `tf.train.sgd(lr).minimize`. Both have exactly the same
 * logits, loss and update. The count matrix and the one-hot targets are built once, outside
 * the timing (in tfjs's favour).
 *
 * Agreement: both start from the same weights; the losses of the first two steps must match
 * (the second one checks the update).
 */
import * as torch from "torchlet";
import { type Context, Rng, type Row, Zipf, errorText, expectAgreement, oneHot, runsFor, time } from "./harness";
import type * as tfjs from "@tensorflow/tfjs-core";

export const VOCAB = 20_000;
export const CLASSES = 20;

/** Documents of Zipf-distributed word ids, 80 to 120 words each. */
export function makeDocs(rng: Rng, count: number, vocab = VOCAB): Int32Array[] {
  const zipf = new Zipf(vocab, 1);
  return Array.from({ length: count }, () => {
    const doc = new Int32Array(80 + rng.int(41));
    for (let i = 0; i < doc.length; i++) doc[i] = zipf.sample(rng);
    return doc;
  });
}

export async function sparseSgdWorkload(ctx: Context): Promise<Row[]> {
  const batch = 256;
  const lr = 0.1;
  const rng = new Rng(4);
  const docs = makeDocs(rng, batch);
  const labels = rng.intArray(batch, CLASSES);
  const initial = rng.uniformArray(VOCAB * CLASSES, -0.05, 0.05);
  const rows = Int32Array.from({ length: batch }, (_, i) => i);
  const tokens = docs.reduce((n, d) => n + d.length, 0);
  const row: Row = {
    name: `W4 bag-of-words SGD step (V ${VOCAB}, C ${CLASSES}, B ${batch})`,
    unit: "ms",
    better: "lower",
    torchlet: null,
    peers: {},
    targetRatio: 10,
    target: "≥ 10× faster than tfjs-wasm (dense)",
    reference: "PyTorch EmbeddingBag ~6.6 ms (spec)",
    tokens,
    formulation: { torchlet: "EmbeddingBag(sum) + bias, row-sparse SGD", tfjs: "counts (256, 20000) @ W (20000, 20) + b, dense SGD" },
    errors: {},
    agreement: {},
  };

  const losses: number[] = [];
  try {
    const { indices, offsets } = torch.text.toBagBatch(docs, rows);
    const idx = torch.Tensor.fromArray(indices, [indices.length], "int64");
    const offs = torch.Tensor.fromArray(offsets, [offsets.length], "int64");
    const y = torch.Tensor.fromArray(labels, [batch], "int64");
    const bag = new torch.nn.EmbeddingBag(VOCAB, CLASSES, {
      mode: "sum",
      weight: torch.Tensor.fromArray(initial.slice(), [VOCAB, CLASSES], "float32"),
    });
    const bias = new torch.nn.Parameter(torch.zeros([CLASSES]));
    const optimizer = new torch.optim.SGD([bag.weight, bias], { lr });
    const step = (): number => {
      optimizer.zeroGrad();
      const loss = torch.nn.functional.crossEntropy(bag.forward(idx, offs).add(bias), y);
      loss.backward();
      optimizer.step();
      return loss.item();
    };
    losses.push(step(), step());
    // More warm-up than elsewhere: a step is short, and the JIT needs a few dozen to settle.
    const t = time(step, { ...runsFor(ctx, "torchlet", { torchlet: 21, peer: 11 }), warmup: 20 });
    row.torchlet = t.median;
    row.torchletSamples = t.samples;
  } catch (e) {
    row.errors!.torchlet = errorText(e);
  }

  const counts = torch.text.toCountMatrix(docs, rows, VOCAB);
  const targets = oneHot(labels, CLASSES);
  for (const peer of ctx.peers) {
    if (losses.length < 2) break;
    let tensors: tfjs.Tensor[] = [];
    try {
      await peer.use();
      const tf = peer.tf;
      const x = tf.tensor2d(counts, [batch, VOCAB]);
      const t = tf.tensor2d(targets, [batch, CLASSES]);
      const W = tf.variable(tf.tensor2d(initial, [VOCAB, CLASSES]));
      const b = tf.variable(tf.zeros([CLASSES]));
      tensors = [x, t, W, b];
      const optimizer = tf.train.sgd(lr);
      const objective = (): tfjs.Scalar => tf.losses.softmaxCrossEntropy(t, tf.add(tf.matMul(x, W), b)) as tfjs.Scalar;
      const first = optimizer.minimize(objective, true, [W, b])!;
      const second = optimizer.minimize(objective, true, [W, b])!;
      (row.agreement as Record<string, unknown>)[peer.name] = {
        firstLoss: expectAgreement(`${peer.name} first loss`, first.dataSync()[0], losses[0]),
        lossAfterOneStep: expectAgreement(`${peer.name} loss after one step`, second.dataSync()[0], losses[1]),
      };
      tf.dispose([first, second]);
      const timing = time(() => optimizer.minimize(objective, false, [W, b]), runsFor(ctx, peer.name, { torchlet: 21, peer: 11 }));
      row.peers[peer.name] = timing.median;
      optimizer.dispose();
    } catch (e) {
      row.errors![peer.name] = errorText(e);
    } finally {
      peer.tf.dispose(tensors);
    }
  }
  row.losses = losses;
  return [row];
}
