/**
 * Replays golden cases of nn modules (activations and losses) and chains of them through the
 * public API: the output, its gradFn name, every input's gradient, or the error message.
 */
import * as torch from "torchlet";
import { type GoldenCase, decodeOptions, expectClose, toTensor } from "./golden";

type Options = Record<string, unknown>;

/** Applies one golden op (a module name or a tensor method) to `x`, with extra tensor arguments. */
export function applyOp(op: string, x: torch.Tensor, args: unknown[], options: Options, extra: torch.Tensor[]): torch.Tensor {
  const nn = torch.nn;
  const opts = decodeOptions(options);
  switch (op) {
    case "nn.Softmax":
      return new nn.Softmax(args[0] as number).forward(x);
    case "nn.LogSoftmax":
      return new nn.LogSoftmax(args[0] as number).forward(x);
    case "nn.Sigmoid":
      return new nn.Sigmoid().forward(x);
    case "nn.NLLLoss":
      return new nn.NLLLoss(opts).forward(x, extra[0]);
    case "nn.CrossEntropyLoss":
      return new nn.CrossEntropyLoss(opts).forward(x, extra[0]);
    case "nn.BCELoss":
      return new nn.BCELoss(opts).forward(x, extra[0]);
    case "nn.BCEWithLogitsLoss":
      return new nn.BCEWithLogitsLoss(opts).forward(x, extra[0]);
    default: {
      // A plain tensor op named as in PyTorch (snake_case becomes camelCase).
      const method = op.replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
      const fn = (x as unknown as Record<string, unknown>)[method];
      if (typeof fn !== "function") throw new Error(`replay: unknown op ${op}`);
      return (fn as (...a: unknown[]) => torch.Tensor).call(x, ...args, ...extra);
    }
  }
}

/** The case's forward computation on fresh leaves. */
function forward(c: GoldenCase, inputs: torch.Tensor[]): torch.Tensor {
  if (c.op !== "chain") return applyOp(c.op, inputs[0], c.args ?? [], c.options ?? {}, inputs.slice(1));
  let x = inputs[0];
  for (const step of c.steps ?? []) {
    const extra = (step.extraInputs ?? []).map((i) => inputs[i]);
    x = applyOp(step.op, x, step.args ?? [], step.options ?? {}, extra);
  }
  return x;
}

export function replay(c: GoldenCase): void {
  const inputs = c.inputs.map(toTensor);
  if (c.error) {
    let message: string | null = null;
    try {
      forward(c, inputs);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe(c.error.pytorchMessage);
    return;
  }
  const out = forward(c, inputs);
  expectClose(out, c.output!, "output");
  expect(out.gradFn?.name ?? null).toBe(c.gradFn);
  if (c.upstream) out.backward(toTensor(c.upstream));
  else out.backward();
  (c.grads ?? []).forEach((expected, i) => {
    if (expected === null) {
      expect(inputs[i].grad).toBeNull();
    } else {
      expect(inputs[i].grad).not.toBeNull();
      expectClose(inputs[i].grad!, expected, `grad of input ${i}`);
    }
  });
}
