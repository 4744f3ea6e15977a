/**
 * The program that tests/bundle.test.ts and tests/browser.test.ts bundle as a consumer of the
 * installed package would: plain JavaScript importing "torchlet", run in Node and in Chromium.
 */

/**
 * Logistic regression on two Gaussian clouds (1024 points in 32 dimensions): products of 32,768
 * multiply-adds, above the size from which they run on wasm. The result is a promise on
 * globalThis, for whoever runs the bundle (Node in tests/bundle.test.ts, Chromium in tests/browser.test.ts).
 */
export const LOGISTIC_REGRESSION = `
import * as torch from "torchlet";
globalThis.torchletResult = (async () => {
  await torch.ready();
  torch.manualSeed(0);
  const n = 1024, d = 32;
  const y = torch.tensor(Array.from({ length: n }, (_, i) => [i % 2]));
  const x = torch.randn([n, d]).add(y.mul(2).sub(1).mul(0.5));
  const model = new torch.nn.Linear(d, 1);
  const criterion = new torch.nn.BCEWithLogitsLoss();
  const optimizer = new torch.optim.SGD(model.parameters(), { lr: 0.5 });
  const losses = [];
  for (let step = 0; step < 100; step++) {
    optimizer.zeroGrad();
    const loss = criterion.forward(model.forward(x), y);
    loss.backward();
    optimizer.step();
    losses.push(loss.item());
  }
  const logits = model.forward(x).tolist();
  const right = logits.filter(([z], i) => (z > 0 ? 1 : 0) === i % 2).length;
  return { wasm: torch.backends.wasm.isAvailable(), first: losses[0], last: losses[losses.length - 1], accuracy: right / n };
})();
`;

export interface TrainingResult {
  wasm: boolean;
  first: number;
  last: number;
  accuracy: number;
}

/** What a run must show: the loss fell, the points are separated, and the products ran on wasm. */
export function expectTrained(result: TrainingResult): void {
  expect(result.wasm).toBe(true);
  expect(result.last).toBeLessThan(result.first / 2);
  expect(result.accuracy).toBeGreaterThan(0.9);
}
