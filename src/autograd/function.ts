/**
 * `autograd`: `grad`, `gradcheck` and `gradgradcheck`, `Function` for ops with a hand-written
 * backward, and `functional` (vjp, jvp, jacobian, hessian, hvp, vhp).
 */
import { allocate } from "../dtype";
import { sameShape } from "../shape";
import { Generator } from "../random";
import { Tensor } from "../tensor-core";
import { toDtype } from "../ops/elementwise";
import { clone } from "../ops/shape";
import { enableGrad, noGrad } from "./grad-mode";
import { type OneOrMany, grad, list } from "./grad";
import { record } from "./node";
import { disown } from "./ownership";
import { checkOptions, optionKeys } from "../options";

export { grad } from "./grad";
export type { GradOptions } from "./grad";
export * as functional from "./functional";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
}

/**
 * Compares the analytical Jacobian (from backward) with central finite differences, in float64.
 * Floating inputs that require grad are copied to float64 first. Returns true or throws an
 * Error naming the output, the input and the first mismatching entry.
 */
const GRADCHECK_KEYS = optionKeys<GradcheckOptions>({ eps: true, atol: true, rtol: true });
const GRADGRADCHECK_KEYS = optionKeys<GradgradcheckOptions>({ eps: true, atol: true, rtol: true, gradOutputs: true, seed: true });

export function gradcheck(fn: (...inputs: Tensor[]) => Tensor | Tensor[], inputs: readonly Tensor[], options: GradcheckOptions = {}): true {
  checkOptions("gradcheck", options, GRADCHECK_KEYS);
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const xs = inputs.map((t) => (t.requiresGrad ? clone(toDtype(t.detach(), "float64")).detach().requiresGrad_(true) : t));
  const differentiable = xs.map((_, i) => i).filter((i) => xs[i].requiresGrad);
  if (differentiable.length === 0) throw new Error("gradcheck expects at least one input tensor to require gradient");

  const outputs = list(fn(...xs));
  const evaluate = () => noGrad(() => list(fn(...xs)).map((o) => toDtype(o, "float64").toArray().slice()));

  outputs.forEach((out, o) => {
    const n = out.numel();
    for (const i of differentiable) {
      const x = xs[i];
      const m = x.numel();
      // analytical[k][j] = d out[k] / d x[j], one backward per output element.
      const analytical = Array.from({ length: n }, (_, k) => {
        if (!out.requiresGrad) return new Float64Array(m);
        const seed = Tensor.fromArray(allocate(out.dtype, n), out.shape, out.dtype);
        seed.nd.data[k] = 1;
        const [g] = grad([out], [x], { gradOutputs: [seed], retainGraph: true, allowUnused: true });
        return g ? toDtype(g, "float64").toArray() : new Float64Array(m);
      });
      const data = x.nd.data;
      for (let j = 0; j < m; j++) {
        const original = data[x.nd.offset + j];
        data[x.nd.offset + j] = original + eps;
        const plus = evaluate()[o];
        data[x.nd.offset + j] = original - eps;
        const minus = evaluate()[o];
        data[x.nd.offset + j] = original;
        for (let k = 0; k < n; k++) {
          const numerical = (plus[k] - minus[k]) / (2 * eps);
          const a = analytical[k][j];
          const bothNaN = Number.isNaN(numerical) && Number.isNaN(a);
          if (!bothNaN && !(Math.abs(a - numerical) <= atol + rtol * Math.abs(numerical))) {
            throw new Error(
              `Jacobian mismatch for output ${o} with respect to input ${i}: d out[${k}] / d in[${j}] is ${a} analytically but ${numerical} numerically`,
            );
          }
        }
      }
    }
  });
  return true;
}

export interface GradgradcheckOptions extends GradcheckOptions {
  /** The upstream gradients of the outputs; default: uniform in [-1, 1), drawn from a generator seeded with `seed`. */
  gradOutputs?: OneOrMany;
  /** Seed of the generator that draws the default `gradOutputs` (default 0). */
  seed?: number;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

/** The outputs of `fn` that a backward reaches (PyTorch's `_differentiable_outputs`). */
function differentiableOutputs(outputs: Tensor | Tensor[]): Tensor[] {
  return list(outputs).filter((o) => o.requiresGrad);
}

/** Leaves of the outputs' shapes in float64, uniform in [-1, 1), requiring grad (PyTorch's make_tensor(low=-1, high=1)). */
function randomGradOutputs(outputs: readonly Tensor[], seed: number): Tensor[] {
  const generator = new Generator(seed);
  return outputs.map((o) => {
    const values = allocate("float64", o.numel()).map(() => 2 * generator.random() - 1);
    return Tensor.fromArray(values, o.shape, "float64").requiresGrad_(true);
  });
}

/**
 * Checks second derivatives as PyTorch's gradgradcheck does: `gradcheck` (finite differences in
 * float64) of the function that maps (inputs, gradOutputs) to the first gradients of `fn`'s
 * outputs with respect to its inputs that require grad, computed with `createGraph`. The
 * gradOutputs that require grad are differentiated too, so a backward must be differentiable in
 * its upstream gradient as well as in the tensors it saved.
 */
export function gradgradcheck(fn: Fn, inputs: readonly Tensor[], options: GradgradcheckOptions = {}): true {
  checkOptions("gradgradcheck", options, GRADGRADCHECK_KEYS);
  const gradOutputs = options.gradOutputs
    ? list(options.gradOutputs)
    : randomGradOutputs(differentiableOutputs(fn(...inputs)), options.seed ?? 0);
  const count = inputs.length;
  const differentiable = inputs.map((t) => t.requiresGrad);
  const firstGradients = (...args: Tensor[]): Tensor[] =>
    enableGrad(() => {
      const ins = args.slice(0, count);
      const outputs = differentiableOutputs(fn(...ins));
      const wrt = ins.filter((_, i) => differentiable[i]);
      const grads = grad(outputs, wrt, { gradOutputs: args.slice(count), createGraph: true, allowUnused: true });
      return grads.filter((g): g is Tensor => g !== null);
    });
  const { eps, atol, rtol } = options;
  return gradcheck(firstGradients, [...inputs, ...gradOutputs], { eps, atol, rtol });
}

/** What `forward` can leave for `backward`: saved tensors and any other fields. */
export class FunctionCtx {
  savedTensors: Tensor[] = [];
  /** For each argument of `apply`, whether it is a tensor that requires grad. */
  needsInputGrad: boolean[] = [];
  [field: string]: unknown;

  saveForBackward(...tensors: Tensor[]): void {
    this.savedTensors = tensors;
  }
}

/**
 * A user-written op: subclass, implement `static forward(ctx, ...args)` and
 * `static backward(ctx, gradOutput)` (one gradient or null per argument), call `MyOp.apply(...)`.
 * The node is named `${ClassName}Backward`, as PyTorch names custom functions.
 */
export class Function {
  static forward(_ctx: FunctionCtx, ..._args: unknown[]): Tensor {
    throw new Error("You must implement the forward function for custom autograd.Function.");
  }

  static backward(_ctx: FunctionCtx, _gradOutput: Tensor): Tensor | null | Array<Tensor | null> {
    throw new Error(
      "You must implement either the backward or vjp method for your custom autograd.Function to use it with backward mode AD.",
    );
  }

  static apply(...args: unknown[]): Tensor {
    const ctx = new FunctionCtx();
    const tensorArgs = args.map((a) => (a instanceof Tensor ? a : null));
    ctx.needsInputGrad = tensorArgs.map((t) => !!t?.requiresGrad);
    const out = noGrad(() => this.forward(ctx, ...args));
    if (!(out instanceof Tensor)) throw new Error(`${this.name}.forward must return a Tensor`);
    // A fresh tensor over the same storage, so that returning an input does not re-parent it.
    const result = out.detach();
    // A saved output is read as the result the graph knows, so that a backward recorded with
    // createGraph reaches the inputs through it, as PyTorch's saved outputs do.
    if (!tensorArgs.includes(out)) ctx.savedTensors = ctx.savedTensors.map((t) => (t === out ? result : t));
    const name = `${this.name}Backward`;
    const backward = (g: Tensor): Array<Tensor | null> => {
      disown(g); // the user's backward may keep it, or return it as an input's gradient
      const returned = this.backward(ctx, g);
      const grads = Array.isArray(returned) ? returned : [returned];
      if (grads.length !== args.length) {
        throw new Error(`function ${name} returned an incorrect number of gradients (expected ${args.length}, got ${grads.length})`);
      }
      return grads.map((gi, i) => {
        if (gi === null || gi === undefined || !tensorArgs[i]?.requiresGrad) return null;
        if (!sameShape(gi.shape, tensorArgs[i]!.shape)) {
          throw new Error(
            `Function ${name} returned an invalid gradient at index ${i} - got [${gi.shape.join(", ")}] but expected shape compatible with [${tensorArgs[i]!.shape.join(", ")}]`,
          );
        }
        return gi;
      });
    };
    return record(name, result, tensorArgs, backward, { saved: ctx.savedTensors });
  }
}
