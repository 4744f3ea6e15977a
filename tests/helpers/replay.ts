/**
 * Replays the second-round golden cases (ops2.json, inplace.json, losses2.json, errors2.json,
 * double_backward.json; formats in their README) through the public API, the way a user would
 * call each op. One harness for every file, so that a test file only says which cases it covers.
 */
import * as torch from "torchlet";
import { type GoldenCase, type JsonTensor, decodeOptions, decodeValue, expectClose, loadCases, toTensor } from "./golden";

type Tensor = torch.Tensor;
type Result = Tensor | { values: Tensor; indices: Tensor };
type Callable = (...args: unknown[]) => unknown;

export interface SecondRoundCase extends GoldenCase {
  error: { pytorchMessage: string; type: string; phase?: "backward" } | null;
  v?: JsonTensor[];
  firstGrads?: Array<JsonTensor | null>;
  secondGrads?: Array<JsonTensor | null>;
}

/** An index item of a case: `{input: k}` stands for inputs[k]. */
function indexItem(item: unknown, inputs: Tensor[]): unknown {
  return item !== null && typeof item === "object" && "input" in (item as object) ? inputs[(item as { input: number }).input] : item;
}

/** A non-finite number argument, which JSON spells "nan", "inf" or "-inf" (`x.maskedFill(mask, "-inf")`). */
function decodeNumber(arg: unknown): unknown {
  return arg === "nan" || arg === "inf" || arg === "-inf" ? decodeValue(arg) : arg;
}

/** `options` as the call's last argument, when there are any. */
function withOptions(args: unknown[], options: Record<string, unknown> | undefined): unknown[] {
  const decoded = decodeOptions(options);
  return Object.keys(decoded).length > 0 ? [...args, decoded] : args;
}

function member(owner: object, name: string, what: string): Callable {
  const fn = (owner as Record<string, unknown>)[name];
  if (typeof fn !== "function") throw new Error(`replay: torchlet has no ${what}${name}`);
  return fn as Callable;
}

/** One op of a case (or of a chain step) applied to `x` (input 0) and the other tensor inputs. */
export function applyOp(op: string, inputs: Tensor[], args: unknown[], options?: Record<string, unknown>): Result {
  const [x, ...rest] = inputs;
  if (op === "index") return member(x, "index", "Tensor method ").call(x, ...args.map((a) => indexItem(a, inputs))) as Result;
  if (op === "indexPut_") {
    const [items, value] = args as [unknown[], unknown];
    const decoded = items.map((a) => indexItem(a, inputs));
    return member(x, "indexPut_", "Tensor method ").call(x, decoded, indexItem(value, inputs)) as Result;
  }
  if (op === "torch.cat" || op === "torch.stack") return member(torch, op.slice(6), "torch.")(inputs, ...args) as Result;
  if (op.startsWith("torch.")) return member(torch, op.slice(6), "torch.")(...inputs, ...args) as Result;
  if (op === "F.layerNorm") {
    const decoded = decodeOptions(options);
    const [weight, bias] = rest;
    return member(torch.nn.functional, "layerNorm", "F.")(x, args[0], {
      ...decoded,
      ...(weight ? { weight } : {}),
      ...(bias ? { bias } : {}),
    }) as Result;
  }
  if (op.startsWith("F.")) return member(torch.nn.functional, op.slice(2), "F.")(...inputs, ...withOptions(args, options)) as Result;
  if (op.startsWith("nn.")) {
    const Module = (torch.nn as unknown as Record<string, new (...a: unknown[]) => { forward: Callable }>)[op.slice(3)];
    if (typeof Module !== "function") throw new Error(`replay: torchlet has no ${op}`);
    return new Module(...withOptions(args, options)).forward(...inputs) as Result;
  }
  return member(x, op, "Tensor method ").call(x, ...rest, ...withOptions(args.map(decodeNumber), options)) as Result;
}

/** Runs a case's op, or its chain of steps, on fresh copies of its inputs. */
function run(c: SecondRoundCase, inputs: Tensor[]): Result {
  if (c.op !== "chain" && c.op !== "gradgrad") return applyOp(c.op, inputs, c.args ?? [], c.options);
  let x: Result = inputs[0];
  for (const step of c.steps ?? []) {
    const extra = (step.extraInputs ?? []).map((i) => inputs[i]);
    x = applyOp(step.op, [x as Tensor, ...extra], step.args ?? [], step.options);
  }
  return x;
}

/** The message of what `fn` throws, or "(no error)". */
export function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "(no error)";
}

/** Output, indices, gradFn name, and the gradient of every input after backward; or PyTorch's error. */
export function replayCase(c: SecondRoundCase): void {
  const inputs = c.inputs.map(toTensor);
  if (c.error && c.error.phase !== "backward") {
    expect(messageOf(() => run(c, inputs))).toBe(c.error.pytorchMessage);
    return;
  }
  const result = run(c, inputs);
  const out = result instanceof torch.Tensor ? result : result.values;
  if (!(result instanceof torch.Tensor) && c.indices) expectClose(result.indices, c.indices, "indices");
  expectClose(out, c.output!, "output");
  expect(out.gradFn?.name ?? null).toBe(c.gradFn);
  if (c.error) {
    expect(messageOf(() => (c.upstream ? out.backward(toTensor(c.upstream)) : out.backward()))).toBe(c.error.pytorchMessage);
    return;
  }
  if (!out.requiresGrad) return;
  if (c.upstream) out.backward(toTensor(c.upstream));
  else out.backward();
  c.grads?.forEach((expected, i) => {
    if (expected === null) expect(inputs[i].grad).toBeNull();
    else expectClose(inputs[i].grad!, expected, `grad of input ${i}`);
  });
}

/**
 * A gradgrad case: s = output (or sum(output * upstream)), first gradients with createGraph,
 * then sum_i (g_i * v_i).sum() backward gives the second gradients.
 */
export function replayGradGrad(c: SecondRoundCase): void {
  const inputs = c.inputs.map(toTensor);
  const result = run(c, inputs);
  const out = result instanceof torch.Tensor ? result : result.values;
  expectClose(out, c.output!, "output");
  const s = out.ndim === 0 ? out : out.mul(toTensor(c.upstream!)).sum();
  const differentiable = inputs.filter((t) => t.requiresGrad);
  const first = torch.autograd.grad([s], differentiable, { createGraph: true, allowUnused: true });
  first.forEach((g, i) => {
    const expected = c.firstGrads![i];
    if (expected !== null) expectClose(g ?? torch.zerosLike(differentiable[i]), expected, `first gradient ${i}`);
  });
  const v = c.v!.map(toTensor);
  const terms = first.map((g, i) => (g === null ? null : g.mul(v[i]).sum())).filter((t): t is Tensor => t !== null && t.requiresGrad);
  terms.reduce((a, b) => a.add(b)).backward();
  c.secondGrads!.forEach((expected, i) => {
    const grad = differentiable[i].grad;
    if (expected === null) expect(grad).toBeNull();
    else expectClose(grad ?? torch.zerosLike(differentiable[i]), expected, `second gradient ${i}`);
  });
}

/** The cases of `file` whose op (or, for chains, any step's op) satisfies `covers`. */
export function casesOf(file: string, covers: (op: string) => boolean): SecondRoundCase[] {
  return loadCases<SecondRoundCase>(file).filter((c) => covers(c.op) || (c.steps ?? []).some((s) => covers(s.op)));
}
