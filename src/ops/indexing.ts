import { Tensor } from "../tensor";

export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  throw new Error("gather is not implemented yet");
}
export function scatter(x: Tensor, dim: number, index: Tensor, source: Tensor | number | { value: number }): Tensor {
  throw new Error("scatter is not implemented yet");
}
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  throw new Error("indexSelect is not implemented yet");
}
