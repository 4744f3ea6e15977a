import { Tensor } from "../tensor";

export function matmul(a: Tensor, b: Tensor): Tensor {
  throw new Error("matmul is not implemented yet");
}
