/**
 * Replays every case of tests/fixtures/pytorch/ops.json (computed by PyTorch 1.13) through the
 * public API, as tensor methods: the output (and `indices` for max over a dim), the gradFn name,
 * and the gradient of every input after backward, with PyTorch's own tolerances.
 */
import * as torch from "torchlet";
import { type GoldenCase, expectClose, loadCases, toTensor } from "./helpers/golden";

type Tensor = torch.Tensor;

const BINARY = new Set(["add", "sub", "mul", "div", "pow"]);

/** The result of one op: a tensor, or `max(dim)`'s {values, indices}. */
type Result = Tensor | { values: Tensor; indices: Tensor };

/** Applies `op` (PyTorch's name) to `x` as a tensor method; `extra` are further tensor inputs. */
function apply(op: string, x: Tensor, args: unknown[], extra: Tensor[]): Result {
  if (BINARY.has(op)) {
    const other = extra.length > 0 ? extra[0] : (args[0] as number);
    switch (op) {
      case "add":
        return x.add(other);
      case "sub":
        return x.sub(other);
      case "mul":
        return x.mul(other);
      case "div":
        return x.div(other);
      default:
        return x.pow(other);
    }
  }
  switch (op) {
    case "neg":
      return x.neg();
    case "exp":
      return x.exp();
    case "log":
      return x.log();
    case "sqrt":
      return x.sqrt();
    case "abs":
      return x.abs();
    case "sigmoid":
      return x.sigmoid();
    case "tanh":
      return x.tanh();
    case "relu":
      return x.relu();
    case "softmax":
      return x.softmax(args[0] as number);
    case "logSoftmax":
      return x.logSoftmax(args[0] as number);
    case "clamp":
      return x.clamp(args[0] as number | null, args[1] as number | null);
    case "matmul":
      return x.matmul(extra[0]);
    case "sum":
      return x.sum(args[0] as number | number[] | undefined, (args[1] as boolean | undefined) ?? false);
    case "mean":
      return x.mean(args[0] as number | number[] | undefined, (args[1] as boolean | undefined) ?? false);
    case "max":
      return args.length === 0 ? x.max() : x.max(args[0] as number, (args[1] as boolean | undefined) ?? false);
    case "logsumexp":
      return x.logsumexp(args[0] as number | number[], (args[1] as boolean | undefined) ?? false);
    case "reshape":
      return x.reshape(args[0] as number[]);
    case "expand":
      return x.expand(args[0] as number[]);
    case "transpose":
      return x.transpose(args[0] as number, args[1] as number);
    case "unsqueeze":
      return x.unsqueeze(args[0] as number);
    case "squeeze":
      return args.length === 0 ? x.squeeze() : x.squeeze(args[0] as number);
    case "gather":
      return x.gather(args[0] as number, extra[0]);
    case "index_select":
      return x.indexSelect(args[0] as number, extra[0]);
    default:
      throw new Error(`ops.test: no mapping for op ${op}`);
  }
}

function run(c: GoldenCase, inputs: Tensor[]): Result {
  if (c.op !== "chain") return apply(c.op, inputs[0], c.args ?? [], inputs.slice(1));
  let x: Result = inputs[0];
  for (const step of c.steps ?? []) {
    const extra = (step.extraInputs ?? []).map((i) => inputs[i]);
    x = apply(step.op, x as Tensor, step.args ?? [], extra);
  }
  return x;
}

const cases = loadCases("ops.json");

describe("golden ops (PyTorch 1.13): outputs, gradFn names and gradients", () => {
  test("the fixture holds every case", () => {
    expect(cases.length).toBe(180);
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
  });

  test.each(cases.map((c) => [c.id, c] as const))("%s", (_, c) => {
    const inputs = c.inputs.map(toTensor);
    if (c.error) {
      expect(() => run(c, inputs)).toThrow(c.error.pytorchMessage);
      return;
    }
    const result = run(c, inputs);
    let out: Tensor;
    if (result instanceof torch.Tensor) {
      out = result;
      expect(c.indices).toBeUndefined();
    } else {
      out = result.values;
      expect(c.indices).toBeDefined();
      expectClose(result.indices, c.indices!, "indices");
    }
    expectClose(out, c.output!, "output");
    expect(out.gradFn?.name ?? null).toBe(c.gradFn);

    if (c.upstream) out.backward(toTensor(c.upstream));
    else out.backward();
    expect(c.grads).not.toBeNull();
    c.grads!.forEach((expected, i) => {
      if (expected === null) {
        expect(inputs[i].grad).toBeNull();
      } else {
        expect(inputs[i].grad).not.toBeNull();
        expectClose(inputs[i].grad!, expected, `grad of input ${i}`);
      }
    });
  });
});
