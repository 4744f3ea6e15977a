/**
 * Tensor hooks that replace the gradient: what they may return, and PyTorch 1.13's messages when
 * the replacement is not a gradient of the same dtype and shape.
 */
import * as torch from "torchlet";

type Tensor = torch.Tensor;

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  return "no error";
}

/** backward through y = x * 3 with `hook` on y (or on the leaf x). */
function backwardWith(hook: (g: Tensor) => unknown, on: "leaf" | "non-leaf" = "non-leaf"): Tensor {
  const x = torch.tensor([1, 2], { requiresGrad: true });
  const y = x.mul(3);
  (on === "leaf" ? x : y).registerHook(hook as (g: Tensor) => Tensor);
  y.sum().backward();
  return x;
}

test("a hook's replacement of the same dtype and shape is used; undefined and null keep the gradient", () => {
  expect(backwardWith((g) => g.mul(2)).grad!.tolist()).toEqual([6, 6]);
  expect(backwardWith((g) => g.mul(2), "leaf").grad!.tolist()).toEqual([6, 6]);
  expect(backwardWith(() => undefined).grad!.tolist()).toEqual([3, 3]);
  expect(backwardWith(() => null).grad!.tolist()).toEqual([3, 3]);
});

test("a replacement that is not a tensor: PyTorch's TypeError", () => {
  expect(messageOf(() => backwardWith(() => 42))).toBe("TypeError: expected Variable, but hook returned 'int'");
  expect(messageOf(() => backwardWith(() => 0.5))).toBe("TypeError: expected Variable, but hook returned 'float'");
  expect(messageOf(() => backwardWith(() => [1, 2], "leaf"))).toBe("TypeError: expected Variable, but hook returned 'list'");
});

test("a replacement of another dtype or shape names the hook, as PyTorch does", () => {
  function doubler(g: Tensor): Tensor {
    return g.double();
  }
  expect(messageOf(() => backwardWith(doubler))).toBe(
    "Error: hook 'doubler' has changed the type of value (was torch.FloatTensor got torch.DoubleTensor)",
  );
  expect(messageOf(() => backwardWith((g) => g.sum()))).toBe("Error: hook '<lambda>' has changed the size of value");
  expect(messageOf(() => backwardWith(() => torch.ones([3]), "leaf"))).toBe("Error: hook '<lambda>' has changed the size of value");
});
