/** `autograd.grad`, `autograd.gradcheck` and `autograd.Function` for ops with a hand-written backward. */
import { allocate } from "../dtype";
import { formatSize, sameShape } from "../shape";
import { Tensor } from "../tensor-core";
import { toDtype } from "../ops/elementwise";
import { clone } from "../ops/shape";
import { runBackward } from "./engine";
import { noGrad } from "./grad-mode";
import { record } from "./node";
import { disown } from "./ownership";

type OneOrMany = Tensor | readonly Tensor[];
const list = (x: OneOrMany): Tensor[] => (x instanceof Tensor ? [x] : [...x]);

function onesLike(t: Tensor): Tensor {
  return Tensor.fromArray(allocate(t.dtype, t.numel()).fill(1), t.shape, t.dtype);
}

/**
 * The gradients of `outputs` with respect to `inputs`, without touching any `.grad`.
 * Scalar outputs need no `gradOutputs`; an input the outputs do not depend on is an error
 * unless `allowUnused`, and then its gradient is null.
 */
export function grad(
  outputs: OneOrMany,
  inputs: OneOrMany,
  options: { gradOutputs?: OneOrMany; retainGraph?: boolean; createGraph?: boolean; allowUnused?: boolean } = {},
): Array<Tensor | null> {
  const outs = list(outputs);
  const ins = list(inputs);
  const seeds = options.gradOutputs
    ? list(options.gradOutputs)
    : outs.map((o) => {
        if (o.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
        return onesLike(o);
      });
  outs.forEach((o, i) => {
    if (!o.requiresGrad) throw new Error(`element ${i} of tensors does not require grad and does not have a grad_fn`);
    if (!sameShape(o.shape, seeds[i].shape)) {
      throw new Error(
        `Mismatch in shape: grad_output[${i}] has a shape of ${formatSize(seeds[i].shape)} and output[${i}] has a shape of ${formatSize(o.shape)}.`,
      );
    }
  });
  const result = runBackward(outs, seeds, { retainGraph: options.retainGraph, createGraph: options.createGraph, captureFor: ins });
  if (!options.allowUnused && result.some((g) => g === null)) {
    throw new Error(
      "One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.",
    );
  }
  return result;
}

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
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor | Tensor[], inputs: readonly Tensor[], options: GradcheckOptions = {}): true {
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
    const name = `${this.name}Backward`;
    return record(name, result, tensorArgs, (g) => {
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
    });
  }
}
