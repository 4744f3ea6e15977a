import { Tensor } from "../tensor";

const todo = (name: string): never => {
  throw new Error(`${name} is not implemented yet`);
};

export function sigmoid(x: Tensor): Tensor {
  return todo("sigmoid");
}
export function tanh(x: Tensor): Tensor {
  return todo("tanh");
}
export function relu(x: Tensor): Tensor {
  return todo("relu");
}
export function softmax(x: Tensor, dim: number): Tensor {
  return todo("softmax");
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return todo("logSoftmax");
}
