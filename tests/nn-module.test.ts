/**
 * Module features of the second round, as PyTorch 1.13 has them: forward pre-hooks and hooks
 * (order, replacement, removal), `apply` (children first), `modules`/`namedModules`,
 * `requiresGrad_`, `numParameters`, and the containers ModuleList and ModuleDict (their members'
 * parameters found and named, state dicts, PyTorch's errors).
 */
import * as torch from "torchlet";
import { messageOf } from "./helpers/replay";

type Tensor = torch.Tensor;
const { nn } = torch;

const values = (t: Tensor): number[] => Array.from(t.toArray());

class Net extends nn.Module {
  encoder = new nn.Sequential(new nn.Linear(4, 3), new nn.ReLU(), new nn.Linear(3, 2));
  head = new nn.Linear(2, 1);

  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

/** Adds `amount` to its input; a subclass calls it through super.forward. */
class AddOne extends nn.Module {
  calls = 0;
  forward(x: Tensor): Tensor {
    this.calls++;
    return x.add(1);
  }
}

class AddOneTwice extends AddOne {
  override forward(x: Tensor): Tensor {
    return super.forward(super.forward(x));
  }
}

describe("forward hooks", () => {
  test("pre-hooks, forward, then hooks, each in registration order, each seeing the previous one's replacement", () => {
    const module = new AddOne();
    const log: string[] = [];
    module.registerForwardPreHook((m, [x]) => {
      log.push(`pre1 ${x.item()}`);
      expect(m).toBe(module);
      return [x.mul(10)];
    });
    module.registerForwardPreHook((_, [x]) => void log.push(`pre2 ${x.item()}`));
    module.registerForwardHook((_, [x], out) => {
      log.push(`hook1 ${x.item()} -> ${out.item()}`);
      return out.neg();
    });
    module.registerForwardHook((_, __, out) => void log.push(`hook2 ${out.item()}`));
    const out = module.forward(torch.tensor(2));
    expect(out.item()).toBe(-21);
    expect(log).toEqual(["pre1 2", "pre2 20", "hook1 20 -> 21", "hook2 -21"]);
  });

  test("a pre-hook may return a single value for a one-argument forward, as PyTorch wraps it", () => {
    const module = new AddOne();
    // Typed code returns the argument list; plain JavaScript may return the value itself.
    module.registerForwardPreHook(((_: unknown, [x]: [Tensor]) => x.mul(3)) as unknown as Parameters<
      typeof module.registerForwardPreHook
    >[0]);
    expect(module.forward(torch.tensor(2)).item()).toBe(7);
  });

  test("remove() unregisters a hook; removing twice is harmless; handles have distinct ids", () => {
    const module = new AddOne();
    const pre = module.registerForwardPreHook((_, [x]) => [x.mul(0)]);
    const post = module.registerForwardHook((_, __, out) => out.mul(5));
    expect(pre.id).not.toBe(post.id);
    expect(module.forward(torch.tensor(4)).item()).toBe(5);
    post.remove();
    expect(module.forward(torch.tensor(4)).item()).toBe(1);
    pre.remove();
    pre.remove();
    expect(module.forward(torch.tensor(4)).item()).toBe(5);
  });

  test("hooks of children run when a container calls them; a subclass's super.forward does not run them again", () => {
    const inner = new AddOneTwice();
    const seq = new nn.Sequential(inner, new nn.Identity());
    let ran = 0;
    inner.registerForwardHook(() => void ran++);
    expect(seq.forward(torch.tensor(0)).item()).toBe(2);
    expect([ran, inner.calls]).toEqual([1, 2]);
  });

  test("hooks see the module's own forward types and can observe activations", () => {
    const net = new Net();
    const seen: Array<[string, number[]]> = [];
    for (const [name, m] of net.namedModules()) {
      if (m instanceof nn.Linear)
        m.registerForwardHook((layer, [x], out) => void seen.push([name, [x.shape[1], out.shape[1], layer.outFeatures]]));
    }
    net.forward(torch.randn([5, 4]));
    expect(seen).toEqual([
      ["encoder.0", [4, 3, 3]],
      ["encoder.2", [3, 2, 2]],
      ["head", [2, 1, 1]],
    ]);
  });

  test("a module with hooks keeps its parameters, state dict and summary", () => {
    const linear = new nn.Linear(2, 2);
    linear.registerForwardHook(() => undefined);
    expect(linear.namedParameters().map(([n]) => n)).toEqual(["weight", "bias"]);
    expect(Object.keys(linear.stateDict())).toEqual(["weight", "bias"]);
    expect(linear.toString()).toBe("Linear(in_features=2, out_features=2, bias=True)");
  });

  test("a forward assigned as a field is wrapped too", () => {
    class Doubler extends nn.Module {
      forward = (x: Tensor): Tensor => x.mul(2);
    }
    const d = new Doubler();
    d.registerForwardHook((_, __, out) => out.add(1));
    expect(d.forward(torch.tensor(3)).item()).toBe(7);
  });
});

describe("apply, modules, namedModules", () => {
  test("apply visits children before their parent, as PyTorch, and returns the module", () => {
    const net = new Net();
    const names = new Map(net.namedModules().map(([name, m]) => [m, name]));
    const order: string[] = [];
    expect(net.apply((m) => void order.push(names.get(m)!))).toBe(net);
    expect(order).toEqual(["encoder.0", "encoder.1", "encoder.2", "encoder", "head", ""]);
  });

  test("apply initialises every layer of a kind", () => {
    const net = new Net();
    net.apply((m) => {
      if (m instanceof nn.Linear) torch.noGrad(() => m.weight.fill_(0.5));
    });
    expect(
      net
        .parameters()
        .filter((p) => p.ndim === 2)
        .every((p) => values(p).every((v) => v === 0.5)),
    ).toBe(true);
  });

  test("namedModules: dotted names, depth first, each module once", () => {
    const shared = new nn.Linear(2, 2);
    class Tied extends nn.Module {
      a = shared;
      b = shared;
      inner = new nn.Sequential(shared, new nn.ReLU());
      forward(x: Tensor): Tensor {
        return this.inner.forward(x);
      }
    }
    const tied = new Tied();
    expect(tied.namedModules().map(([n]) => n)).toEqual(["", "a", "inner", "inner.1"]);
    expect(tied.namedModules("model").map(([n]) => n)).toEqual(["model", "model.a", "model.inner", "model.inner.1"]);
    expect(tied.modules()).toHaveLength(4);
    expect(tied.namedChildren().map(([n]) => n)).toEqual(["a", "inner"]);
    expect(tied.namedParameters().map(([n]) => n)).toEqual(["a.weight", "a.bias"]);
    expect(tied.numParameters()).toBe(6);
    // A Sequential runs a module given twice twice, as PyTorch's.
    const twice = new nn.Sequential(new AddOne(), new nn.Identity());
    twice.append(twice.at(0));
    expect([twice.length, twice.forward(torch.tensor(0)).item()]).toEqual([3, 2]);
  });

  test("requiresGrad_ freezes and unfreezes every parameter; numParameters counts their numbers", () => {
    const net = new Net();
    expect(net.numParameters()).toBe(4 * 3 + 3 + 3 * 2 + 2 + 2 + 1);
    expect(net.encoder.requiresGrad_(false)).toBe(net.encoder);
    expect(net.parameters().map((p) => p.requiresGrad)).toEqual([false, false, false, false, true, true]);
    net
      .forward(torch.randn([3, 4]))
      .sum()
      .backward();
    expect(net.encoder.parameters().every((p) => p.grad === null)).toBe(true);
    expect(net.head.weight.grad).not.toBeNull();
    net.requiresGrad_();
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
  });
});

describe("ModuleList", () => {
  class Stack extends nn.Module {
    layers = new nn.ModuleList([new nn.Linear(3, 3), new nn.Linear(3, 3, { bias: false })]);
    norm = new nn.LayerNorm(3);
    forward(x: Tensor): Tensor {
      for (const layer of this.layers) x = layer.forward(x).relu();
      return this.norm.forward(x);
    }
  }

  test("its members' parameters belong to the model, with PyTorch's dotted names", () => {
    const model = new Stack();
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      "layers.0.weight",
      "layers.0.bias",
      "layers.1.weight",
      "norm.weight",
      "norm.bias",
    ]);
    expect(Object.keys(model.stateDict())).toEqual(model.namedParameters().map(([n]) => n));
    expect(model.namedModules().map(([n]) => n)).toEqual(["", "layers", "layers.0", "layers.1", "norm"]);
    const other = new Stack();
    other.loadStateDict(model.stateDict());
    expect(values(other.layers.at(1).weight)).toEqual(values(model.layers.at(1).weight));
    const y = model.forward(torch.randn([2, 3]));
    y.sum().backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  });

  test("append, extend, insert, set, pop renumber the members; at counts from either end", () => {
    const [a, b, c, d] = [new nn.ReLU(), new nn.Tanh(), new nn.Sigmoid(), new nn.SiLU()];
    const list = new nn.ModuleList<torch.nn.Module>([a]);
    list.append(b).extend([c]);
    list.insert(1, d);
    expect([...list]).toEqual([a, d, b, c]);
    expect(list.namedChildren().map(([n]) => n)).toEqual(["0", "1", "2", "3"]);
    expect(list.at(-1)).toBe(c);
    expect(list.pop(1)).toBe(d);
    list.set(0, d);
    expect([...list]).toEqual([d, b, c]);
    expect(list.length).toBe(3);
    expect(messageOf(() => list.at(3))).toBe("index 3 is out of range");
    expect(messageOf(() => list.at(-4))).toBe("index -4 is out of range");
  });

  test("more than ten members keep their order", () => {
    const list = new nn.ModuleList(Array.from({ length: 12 }, (_, i) => new nn.Linear(1, 1 + i)));
    expect(
      list
        .namedParameters()
        .filter(([n]) => n.endsWith("weight"))
        .map(([n, p]) => `${n}:${p.shape[0]}`),
    ).toEqual(Array.from({ length: 12 }, (_, i) => `${i}.weight:${i + 1}`));
  });

  test("it has no forward, and prints as PyTorch's", () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.ReLU()]);
    expect(messageOf(() => list.forward())).toBe('Module [ModuleList] is missing the required "forward" function');
    expect(list.toString()).toBe(
      ["ModuleList(", "  (0): Linear(in_features=2, out_features=2, bias=True)", "  (1): ReLU()", ")"].join("\n"),
    );
    expect(new nn.ModuleList().toString()).toBe("ModuleList()");
  });
});

describe("ModuleDict", () => {
  test("modules by name in insertion order, whose parameters belong to the model", () => {
    class Heads extends nn.Module {
      heads = new nn.ModuleDict<torch.nn.Linear>([
        ["2", new nn.Linear(4, 2)],
        ["10", new nn.Linear(4, 10)],
        ["cls", new nn.Linear(4, 3, { bias: false })],
      ]);
      forward(x: Tensor): Tensor[] {
        return this.heads.values().map((h) => h.forward(x));
      }
    }
    const model = new Heads();
    expect(model.namedParameters().map(([n]) => n)).toEqual([
      "heads.2.weight",
      "heads.2.bias",
      "heads.10.weight",
      "heads.10.bias",
      "heads.cls.weight",
    ]);
    expect(Object.keys(model.stateDict())).toEqual([
      "heads.2.weight",
      "heads.2.bias",
      "heads.10.weight",
      "heads.10.bias",
      "heads.cls.weight",
    ]);
    expect([...model.heads]).toEqual(["2", "10", "cls"]);
    expect(model.forward(torch.randn([1, 4])).map((t) => t.shape[1])).toEqual([2, 10, 3]);
  });

  test("get, set, has, pop, keys, values, items, update, clear", () => {
    const relu = new nn.ReLU();
    const tanh = new nn.Tanh();
    const dict = new nn.ModuleDict({ act: relu });
    dict.set("out", tanh).update({ act: tanh });
    expect(dict.keys()).toEqual(["act", "out"]);
    expect(dict.get("act")).toBe(tanh);
    expect(dict.items()).toEqual([
      ["act", tanh],
      ["out", tanh],
    ]);
    expect(dict.has("out")).toBe(true);
    expect(dict.pop("out")).toBe(tanh);
    expect([dict.length, dict.has("out")]).toEqual([1, false]);
    expect(messageOf(() => dict.get("out"))).toBe("'out'");
    dict.clear();
    expect(dict.values()).toEqual([]);
  });

  test("PyTorch's errors for names, and for calling it", () => {
    const dict = new nn.ModuleDict();
    expect(messageOf(() => dict.set("a.b", new nn.ReLU()))).toBe('module name can\'t contain ".", got: a.b');
    expect(messageOf(() => dict.set("", new nn.ReLU()))).toBe('module name can\'t be empty string ""');
    expect(messageOf(() => dict.set("keys", new nn.ReLU()))).toBe("attribute 'keys' already exists");
    expect(messageOf(() => dict.set("x", torch.zeros([1]) as unknown as torch.nn.Module))).toBe("torch.Tensor is not a Module subclass");
    expect(messageOf(() => dict.forward())).toBe('Module [ModuleDict] is missing the required "forward" function');
  });
});
