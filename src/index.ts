/** torchlet's public surface: `import * as torch from "torchlet"`. */
export { Tensor } from "./tensor";
export type { NestedArray, Operand } from "./tensor";
export type { DType } from "./dtype";
export { tensor, zeros, ones, full, zerosLike, onesLike, fullLike, arange, eye, randn, rand, randint, manualSeed } from "./creation";
export type { TensorOptions } from "./creation";
export * from "./functions";
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./autograd/grad-mode";
export { Generator, defaultGenerator } from "./random";
export * as autograd from "./autograd/function";
export * as nn from "./nn";
export * as optim from "./optim";
export * as text from "./text";
export * as data from "./data";
export * as io from "./io/safetensors";
