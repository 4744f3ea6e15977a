/**
 * `autograd.functional`: PyTorch 1.13's `torch.autograd.functional` on reverse mode alone. `vjp`
 * and `vhp` run backward (vhp twice); `jvp` and `hvp` use the double-backward trick (the gradient
 * of a backward with respect to its upstream gradient); `jacobian` runs one backward per output
 * element and `hessian` is the jacobian of the jacobian.
 *
 * A Python tuple is an array here: each result has the structure PyTorch gives it (a tensor for
 * a tensor, an array for an array), and a function returning `(output, result)` in PyTorch
 * returns the pair `[output, result]`. Without `createGraph`, every result is detached; with
 * `strict`, a result that does not depend on an input raises PyTorch's error instead of being
 * zeros.
 */
import { allocate } from "../dtype";
import { formatSize, sameShape } from "../shape";
import { Tensor } from "../tensor-core";
import { enableGrad } from "./grad-mode";
import { filledLike, grad } from "./grad";
import { record } from "./node";
import { checkOptions, isOptionsObject, optionKeys } from "../options";

export type Inputs = Tensor | readonly Tensor[];
export type UserFunction = (...inputs: Tensor[]) => Tensor | readonly Tensor[];

export interface FunctionalOptions {
  /** Compute the results in a differentiable way (default false: they are detached). */
  createGraph?: boolean;
  /** Raise when a result does not depend on an input, instead of returning zeros (default false). */
  strict?: boolean;
}

const FUNCTIONAL_KEYS = optionKeys<FunctionalOptions>({ createGraph: true, strict: true });

/** An array for an array given, a single tensor for a tensor: PyTorch's tuple or Tensor. */
type Shaped<T> = T extends Tensor ? Tensor : Tensor[];
/** Nested twice (jacobian of tuples, hessian). */
type Shaped2<O, I> = O extends Tensor ? Shaped<I> : Array<Shaped<I>>;

// ---- PyTorch's helpers (torch/autograd/functional.py) -------------------------------------

/** How Python prints the type of a value that should have been a tensor. */
function pythonType(value: unknown): string {
  const name =
    value === null || value === undefined
      ? "NoneType"
      : typeof value === "number"
        ? Number.isInteger(value)
          ? "int"
          : "float"
        : typeof value === "string"
          ? "str"
          : typeof value === "boolean"
            ? "bool"
            : Array.isArray(value)
              ? "list"
              : typeof value === "function"
                ? "function"
                : "dict";
  return `<class '${name}'>`;
}

/** `_as_tuple`: whether `value` is an array, and its tensors, each checked. */
function asTuple(value: unknown, argName: string, fnName: string): [boolean, Tensor[]] {
  const isTuple = Array.isArray(value);
  const items: unknown[] = isTuple ? [...(value as unknown[])] : [value];
  items.forEach((item, i) => {
    if (item instanceof Tensor) return;
    const which = isTuple ? `value at index ${i}` : `given ${argName}`;
    throw new TypeError(
      `The ${argName} given to ${fnName} must be either a Tensor or a tuple of Tensors but the ${which} has type ${pythonType(item)}.`,
    );
  });
  return [isTuple, items as Tensor[]];
}

/** `_tuple_postprocess`: unwraps the levels that were single tensors. */
function unpack<T>(items: T[], isTuple: boolean): T | T[] {
  return isTuple ? items : items[0];
}

/**
 * `_grad_preprocess`: with createGraph, an input that requires grad is seen through an alias (so
 * that the result stays connected to it); any other is a detached leaf requiring grad when
 * `needGraph`.
 */
function preprocess(inputs: readonly Tensor[], createGraph: boolean, needGraph: boolean): Tensor[] {
  return inputs.map((t) => {
    if (createGraph && t.requiresGrad) return t.isContiguous() ? t.view(t.shape) : t.expand(t.shape);
    const leaf = t.detach();
    return needGraph ? leaf.requiresGrad_(true) : leaf;
  });
}

/** `_grad_postprocess`: detached unless createGraph. */
function postprocess(tensors: readonly Tensor[], createGraph: boolean): Tensor[] {
  return createGraph ? [...tensors] : tensors.map((t) => t.detach());
}

/** `_validate_v`: one vector per output (or input), each of its shape. */
function validateV(v: readonly Tensor[], other: readonly Tensor[], isOtherTuple: boolean): void {
  if (v.length !== other.length) {
    if (isOtherTuple) throw new Error(`v is a tuple of invalid length: should be ${other.length} but got ${v.length}.`);
    throw new Error("The given v should contain a single Tensor.");
  }
  v.forEach((el, i) => {
    if (sameShape(el.shape, other[i].shape)) return;
    const prefix = isOtherTuple ? `Entry ${i} in ` : "";
    throw new Error(`${prefix}v has invalid size: should be ${formatSize(other[i].shape)} but got ${formatSize(el.shape)}.`);
  });
}

type Checked = "outputs" | "grad_inputs" | "jacobian" | "hessian";

const CHECK_MESSAGES: Record<Checked, (i: number) => string> = {
  outputs: (i) =>
    `Output ${i} of the user-provided function does not require gradients. The outputs must be computed in a differentiable manner from the input when running in strict mode.`,
  grad_inputs: (i) =>
    `The gradient with respect to input ${i} is independent of the inputs of the user-provided function. This is not allowed in strict mode.`,
  jacobian: (i) =>
    `While computing the hessian, found that the jacobian of the user-provided function with respect to input ${i} is independent of the input. This is not allowed in strict mode. You should ensure that your function is twice differentiable and that the jacobian depends on the inputs (this would be violated by a linear function for example).`,
  hessian: (i) =>
    `The hessian of the user-provided function with respect to input ${i} is independent of the input. This is not allowed in strict mode. You should ensure that your function is thrice differentiable and that the hessian depends on the inputs.`,
};

/** `_check_requires_grad`, in strict mode only. */
function checkRequiresGrad(tensors: ReadonlyArray<Tensor | null>, kind: Checked, strict: boolean): void {
  if (!strict) return;
  tensors.forEach((t, i) => {
    if (t === null)
      throw new Error(`The output of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`);
    if (!t.requiresGrad) throw new Error(CHECK_MESSAGES[kind](i));
  });
}

/**
 * `_autograd_grad`: the gradients of the outputs that require grad (all null when none does),
 * unused inputs getting null; a null upstream stands for ones (scalar outputs only).
 */
function autogradGrad(
  outputs: ReadonlyArray<Tensor | null>,
  inputs: readonly Tensor[],
  gradOutputs: ReadonlyArray<Tensor | null> | null,
  createGraph: boolean,
  retainGraph?: boolean,
): Array<Tensor | null> {
  const kept = outputs.map((o, i) => i).filter((i) => outputs[i]?.requiresGrad);
  if (kept.length === 0) return inputs.map(() => null);
  const outs = kept.map((i) => outputs[i]!);
  const seeds = kept.map((i) => {
    const given = gradOutputs?.[i] ?? null;
    if (given !== null) return given;
    if (outputs[i]!.numel() !== 1) throw new Error("grad can be implicitly created only for scalar outputs");
    return filledLike(outputs[i]!, 1);
  });
  return grad(outs, inputs, { gradOutputs: seeds, createGraph, retainGraph, allowUnused: true });
}

type Stage = "back" | "back_trick" | "double_back" | "double_back_trick";

const INDEPENDENT: Record<Stage, (i: number) => string> = {
  back: (i) => `The output of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`,
  back_trick: (i) =>
    `The gradient with respect to the input is independent of entry ${i} in the grad_outputs when using the double backward trick to compute forward mode gradients. This is not allowed in strict mode.`,
  double_back: (i) => `The jacobian of the user-provided function is independent of input ${i}. This is not allowed in strict mode.`,
  double_back_trick: (i) =>
    `The hessian of the user-provided function is independent of entry ${i} in the grad_jacobian. This is not allowed in strict mode as it prevents from using the double backward trick to replace forward mode AD.`,
};

/** `_fill_in_zeros`: zeros of the reference's shape for each missing gradient (an error when strict). */
function fillInZeros(
  grads: ReadonlyArray<Tensor | null>,
  refs: readonly Tensor[],
  strict: boolean,
  createGraph: boolean,
  stage: Stage,
): Tensor[] {
  return grads.map((g, i) => {
    if (g === null) {
      if (strict) throw new Error(INDEPENDENT[stage](i));
      return filledLike(refs[i], 0);
    }
    if (strict && createGraph && !g.requiresGrad) {
      const what = stage.startsWith("double") ? "hessian" : "jacobian";
      throw new Error(
        `The ${what} of the user-provided function is independent of input ${i}. This is not allowed in strict mode when createGraph: true.`,
      );
    }
    return g;
  });
}

/** The vectors `v` (or null when omitted, allowed only for one single-element `against`), checked. */
function vectorsFor(
  v: Inputs | null | undefined,
  against: readonly Tensor[],
  isTuple: boolean,
  fnName: string,
  createGraph: boolean,
  whenMissing: string,
): Tensor[] | null {
  if (v !== undefined && v !== null) {
    const [, vs] = asTuple(v, "v", fnName);
    const prepared = preprocess(vs, createGraph, false);
    validateV(prepared, against, isTuple);
    return prepared;
  }
  if (against.length !== 1 || against[0].numel() !== 1) throw new Error(whenMissing);
  return null;
}

const V_FOR_OUTPUT = "The vector v can only be None if the user-provided function returns a single Tensor with a single element.";
const V_FOR_INPUT = "The vector v can only be None if the input to the user-provided function is a single Tensor with a single element.";

/** Runs `fn` with grad mode on when `createGraph`, else in the current mode (PyTorch's set_grad_enabled). */
function recordingIf<T>(createGraph: boolean, fn: () => T): T {
  return createGraph ? enableGrad(fn) : fn();
}

/** The user function's outputs on prepared inputs, checked. */
function outputsOf(fn: UserFunction, inputs: readonly Tensor[], fnName: string, strict: boolean): [boolean, Tensor[]] {
  const [isTuple, outputs] = asTuple(fn(...inputs), "outputs of the user-provided function", fnName);
  checkRequiresGrad(outputs, "outputs", strict);
  return [isTuple, outputs];
}

/** A function's output and a result, each detached unless createGraph, each a tensor unless it was a tuple. */
function outputAndResult(
  outputs: readonly Tensor[],
  isOutputsTuple: boolean,
  result: readonly Tensor[],
  isResultTuple: boolean,
  createGraph: boolean,
): [Tensor | Tensor[], Tensor | Tensor[]] {
  return [unpack(postprocess(outputs, createGraph), isOutputsTuple), unpack(postprocess(result, createGraph), isResultTuple)];
}

/** vhp and hvp need one output of one element. */
function checkScalarOutput(isTuple: boolean, outputs: readonly Tensor[], fnName: string): void {
  if (isTuple) throw new Error(`The function given to ${fnName} should return a single Tensor`);
  if (outputs[0].numel() !== 1) throw new Error(`The Tensor returned by the function given to ${fnName} should contain a single element`);
}

// ---- the functions --------------------------------------------------------------------------

/**
 * `vjp(fn, x, {createGraph: true})`: where `v` may be omitted (one single-element output or
 * input), the options may take its place, as `loss.backward({retainGraph: true})` does for the
 * gradient, instead of being read as a vector.
 */
function vectorAndOptions(
  call: string,
  v: Inputs | null | undefined | FunctionalOptions,
  options: FunctionalOptions,
): [Inputs | null | undefined, FunctionalOptions] {
  if (isOptionsObject(v) && !(v instanceof Tensor)) [v, options] = [undefined, v];
  checkOptions(call, options, FUNCTIONAL_KEYS);
  return [v, options];
}

/** `[fn(inputs), v^T J]`: the vector-Jacobian product, shaped like the inputs. `v` may be omitted for one single-element output. */
export function vjp<I extends Inputs>(
  fn: UserFunction,
  inputs: I,
  v?: Inputs | null | FunctionalOptions,
  options: FunctionalOptions = {},
): [Tensor | Tensor[], Shaped<I>] {
  [v, options] = vectorAndOptions("vjp", v, options);
  const { createGraph = false, strict = false } = options;
  const prepared = enableGrad(() => {
    const [isInputsTuple, given] = asTuple(inputs, "inputs", "vjp");
    const ins = preprocess(given, createGraph, true);
    const [isOutputsTuple, outputs] = outputsOf(fn, ins, "vjp", strict);
    const vs = vectorsFor(v, outputs, isOutputsTuple, "vjp", createGraph, V_FOR_OUTPUT);
    return { isInputsTuple, ins, isOutputsTuple, outputs, vs };
  });
  const { isInputsTuple, ins, isOutputsTuple, outputs, vs } = prepared;
  const result = recordingIf(createGraph, () => fillInZeros(autogradGrad(outputs, ins, vs, createGraph), ins, strict, createGraph, "back"));
  return outputAndResult(outputs, isOutputsTuple, result, isInputsTuple, createGraph) as [Tensor | Tensor[], Shaped<I>];
}

/**
 * `[fn(inputs), J v]`: the Jacobian-vector product, shaped like the outputs, by the double-backward
 * trick. `v` may be omitted for one single-element input.
 */
export function jvp(
  fn: UserFunction,
  inputs: Inputs,
  v?: Inputs | null | FunctionalOptions,
  options: FunctionalOptions = {},
): [Tensor | Tensor[], Tensor | Tensor[]] {
  [v, options] = vectorAndOptions("jvp", v, options);
  const { createGraph = false, strict = false } = options;
  const { outputs, isOutputsTuple, gradInputs, gradOutputs, vs } = enableGrad(() => {
    const [isInputsTuple, given] = asTuple(inputs, "inputs", "jvp");
    const ins = preprocess(given, createGraph, true);
    const vectors = vectorsFor(v, ins, isInputsTuple, "jvp", createGraph, V_FOR_INPUT);
    const [isTuple, outs] = outputsOf(fn, ins, "jvp", strict);
    // The gradient of the backward with respect to its upstream, at zero, is J^T's transpose: J.
    const zeros = outs.map((o) => filledLike(o, 0).requiresGrad_(true));
    const firstGrads = autogradGrad(outs, ins, zeros, true);
    checkRequiresGrad(firstGrads, "grad_inputs", strict);
    return { outputs: outs, isOutputsTuple: isTuple, gradInputs: firstGrads, gradOutputs: zeros, vs: vectors };
  });
  const result = recordingIf(createGraph, () =>
    fillInZeros(autogradGrad(gradInputs, gradOutputs, vs, createGraph), outputs, strict, createGraph, "back_trick"),
  );
  return outputAndResult(outputs, isOutputsTuple, result, isOutputsTuple, createGraph);
}

/**
 * `torch.stack(rows).view(shape)` for rows of one shape: one node whose backward picks each row
 * out with index_select, itself differentiable (the hessian differentiates a jacobian).
 */
function stackRows(rows: readonly Tensor[], shape: number[]): Tensor {
  const width = rows[0].numel();
  const dtype = rows[0].dtype;
  const values = allocate(dtype, rows.length * width);
  rows.forEach((r, j) => values.set(r.toArray(), j * width));
  const backward = (g: Tensor): Tensor[] => {
    const byRow = g.reshape([rows.length, width]);
    return rows.map((r, j) => byRow.indexSelect(0, Tensor.fromArray(Float64Array.of(j), [1], "int64")).reshape(r.shape));
  };
  return record("StackBackward0", Tensor.fromArray(values, shape, dtype), rows, backward, { savesTensors: false });
}

/**
 * The Jacobians of every output (prepared by the caller) with respect to every input, one backward
 * per output element: `[output][input]`, each of shape output.shape + input.shape.
 */
function jacobianRows(outputs: readonly Tensor[], inputs: readonly Tensor[], createGraph: boolean, strict: boolean): Tensor[][] {
  return outputs.map((out, i) => {
    const rows: Tensor[][] = inputs.map(() => []);
    const n = out.numel();
    for (let j = 0; j < n; j++) {
      // The gradient of out's j-th element: a one-hot upstream, what indexing out.reshape(-1)[j] sends back.
      const oneHot = filledLike(out, 0);
      oneHot.nd.data[j] = 1;
      const vj = autogradGrad([out], inputs, [oneHot], createGraph, true);
      vj.forEach((g, k) => {
        if (g === null) {
          if (strict)
            throw new Error(`Output ${i} of the user-provided function is independent of input ${k}. This is not allowed in strict mode.`);
          rows[k].push(filledLike(inputs[k], 0));
          return;
        }
        if (strict && createGraph && !g.requiresGrad) {
          throw new Error(
            `The jacobian of the user-provided function is independent of input ${i}. This is not allowed in strict mode when createGraph: true.`,
          );
        }
        rows[k].push(g);
      });
    }
    return rows.map((r, k) => {
      const shape = [...out.shape, ...inputs[k].shape];
      return r.length === 0 ? Tensor.fromArray(allocate(inputs[k].dtype, 0), shape, inputs[k].dtype) : stackRows(r, shape);
    });
  });
}

/** The Jacobians of `fn` at `inputs` as nested arrays, with whether each level was an array. */
function jacobianOf(
  fn: UserFunction,
  inputs: Inputs,
  createGraph: boolean,
  strict: boolean,
): { jac: Tensor[][]; isOutputsTuple: boolean; isInputsTuple: boolean } {
  return enableGrad(() => {
    const [isInputsTuple, given] = asTuple(inputs, "inputs", "jacobian");
    const ins = preprocess(given, createGraph, true);
    const [isOutputsTuple, outputs] = outputsOf(fn, ins, "jacobian", strict);
    const jac = jacobianRows(outputs, ins, createGraph, strict).map((row) => postprocess(row, createGraph));
    return { jac, isOutputsTuple, isInputsTuple };
  });
}

/**
 * The Jacobian of `fn` at `inputs`: one tensor of shape output.shape + input.shape for one output
 * and one input; an array over inputs, over outputs, or both (outputs first) for arrays.
 */
export function jacobian<I extends Inputs, O extends Tensor | readonly Tensor[] = Tensor | readonly Tensor[]>(
  fn: (...inputs: Tensor[]) => O,
  inputs: I,
  options: FunctionalOptions = {},
): Shaped2<O, I> {
  checkOptions("jacobian", options, FUNCTIONAL_KEYS);
  const { jac, isOutputsTuple, isInputsTuple } = jacobianOf(fn, inputs, options.createGraph ?? false, options.strict ?? false);
  return unpack(
    jac.map((row) => unpack(row, isInputsTuple)),
    isOutputsTuple,
  ) as Shaped2<O, I>;
}

/**
 * The Hessian of a function of one single-element output: for one input a tensor of shape
 * input.shape + input.shape, for an array of inputs an array of arrays (`[i][j]`: d2 / dxi dxj).
 */
export function hessian<I extends Inputs>(fn: UserFunction, inputs: I, options: FunctionalOptions = {}): Shaped2<I, I> {
  checkOptions("hessian", options, FUNCTIONAL_KEYS);
  const { createGraph = false, strict = false } = options;
  const [isInputsTuple, given] = asTuple(inputs, "inputs", "hessian");
  const single = (...ins: Tensor[]): Tensor => {
    const out = fn(...ins);
    const [isTuple, outs] = asTuple(out, "outputs of the user-provided function", "hessian");
    checkRequiresGrad(outs, "outputs", strict);
    if (isTuple) throw new Error("The function given to hessian should return a single Tensor");
    if (outs[0].numel() !== 1) throw new Error("The Tensor returned by the function given to hessian should contain a single element");
    return outs[0].squeeze();
  };
  const gradient = (...ins: Tensor[]): Tensor[] => {
    const { jac } = jacobianOf(single, ins, true, false);
    checkRequiresGrad(jac[0], "jacobian", strict);
    return jac[0];
  };
  const { jac } = jacobianOf(gradient, given, createGraph, strict);
  return unpack(
    jac.map((row) => unpack(row, isInputsTuple)),
    isInputsTuple,
  ) as Shaped2<I, I>;
}

/** The first-order gradients of a single-element function at prepared inputs, with the graph kept. */
function scalarGradients(
  fn: UserFunction,
  inputs: Inputs,
  v: Inputs | null | undefined,
  fnName: string,
  options: FunctionalOptions,
): { ins: Tensor[]; isInputsTuple: boolean; outputs: Tensor[]; isOutputsTuple: boolean; jac: Array<Tensor | null>; vs: Tensor[] | null } {
  const { createGraph = false, strict = false } = options;
  return enableGrad(() => {
    const [isInputsTuple, given] = asTuple(inputs, "inputs", fnName);
    const ins = preprocess(given, createGraph, true);
    const vs = vectorsFor(v, ins, isInputsTuple, fnName, createGraph, V_FOR_INPUT);
    const [isOutputsTuple, outputs] = outputsOf(fn, ins, fnName, strict);
    checkScalarOutput(isOutputsTuple, outputs, fnName);
    const jac = autogradGrad(outputs, ins, null, true);
    checkRequiresGrad(jac, "jacobian", strict);
    return { ins, isInputsTuple, outputs, isOutputsTuple, jac, vs };
  });
}

/** `[fn(inputs), v^T H]`, shaped like the inputs, for a function of one single-element output. */
export function vhp<I extends Inputs>(
  fn: UserFunction,
  inputs: I,
  v?: Inputs | null | FunctionalOptions,
  options: FunctionalOptions = {},
): [Tensor, Shaped<I>] {
  [v, options] = vectorAndOptions("vhp", v, options);
  const { createGraph = false, strict = false } = options;
  const { ins, isInputsTuple, outputs, jac, vs } = scalarGradients(fn, inputs, v, "vhp", options);
  const result = recordingIf(createGraph, () =>
    fillInZeros(autogradGrad(jac, ins, vs, createGraph), ins, strict, createGraph, "double_back"),
  );
  return outputAndResult(outputs, false, result, isInputsTuple, createGraph) as [Tensor, Shaped<I>];
}

/**
 * `[fn(inputs), H v]`, shaped like the inputs, for a function of one single-element output, by the
 * double-backward trick (as PyTorch; equal to vhp for a symmetric Hessian).
 */
export function hvp<I extends Inputs>(
  fn: UserFunction,
  inputs: I,
  v?: Inputs | null | FunctionalOptions,
  options: FunctionalOptions = {},
): [Tensor, Shaped<I>] {
  [v, options] = vectorAndOptions("hvp", v, options);
  const { createGraph = false, strict = false } = options;
  const { ins, isInputsTuple, outputs, jac, vs } = scalarGradients(fn, inputs, v, "hvp", options);
  const { gradJac, doubleBack } = enableGrad(() => {
    const zeros = ins.map((t) => filledLike(t, 0).requiresGrad_(true));
    const back = autogradGrad(jac, ins, zeros, true);
    checkRequiresGrad(jac, "hessian", strict);
    return { gradJac: zeros, doubleBack: back };
  });
  const result = recordingIf(createGraph, () =>
    fillInZeros(autogradGrad(doubleBack, gradJac, vs, createGraph), ins, strict, createGraph, "double_back_trick"),
  );
  return outputAndResult(outputs, false, result, isInputsTuple, createGraph) as [Tensor, Shaped<I>];
}
