/**
 * torchlet for every JavaScript runtime: `import * as torch from "torchlet"` in a bundle for the
 * browser, a worker, Deno or Bun resolves here (package.json's `browser` and `default`
 * conditions). Nothing in its module graph imports Node or reads `process` at load.
 *
 * Node's entry (index.ts) is this plus what needs the file system: `io` adds safetensors files,
 * `text` the classifier's model files, `data` loadSpamAssassin.
 */
export { Tensor } from "./tensor";
export type { NestedArray, Operand } from "./tensor";
export type { DType } from "./dtype";
export { tensor, empty, zeros, ones, full, zerosLike, onesLike, fullLike, arange, eye, randn, rand, randint, manualSeed } from "./creation";
export type { TensorOptions } from "./creation";
export * from "./functions";
export { noGrad, enableGrad, isGradEnabled, setGradEnabled } from "./autograd/grad-mode";
export { Generator, defaultGenerator } from "./random";
export { ready } from "./kernels/wasm";
export { setNumThreads, getNumThreads } from "./parallel/threads";
export * as autograd from "./autograd/function";
export * as nn from "./nn";
export * as optim from "./optim";
export * as text from "./text";
export * as data from "./data/portable";
export * as io from "./io";
export * as backends from "./backends";
export * as utils from "./utils";
