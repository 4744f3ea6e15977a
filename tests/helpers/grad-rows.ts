import type * as torch from "torchlet";

/**
 * The rows that the gradient slot of `t` says may be non-zero (autograd/grad-slot.ts): the rows
 * SGD and zeroGrad visit, sorted.
 */
export function visitedRows(t: torch.Tensor): number[] {
  const rows: number[] = [];
  const width = t.numel() / t.shape[0];
  t.gradSlot!.forEachRow((at, _values, _from, length) => {
    for (let r = at / width; r < (at + length) / width; r++) rows.push(r);
  });
  return rows.sort((a, b) => a - b);
}
