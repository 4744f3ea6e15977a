/**
 * `Module` and `Parameter`. A module finds its parameters and sub-modules by looking at its own
 * fields, in assignment order, so a subclass only assigns them and implements `forward`.
 * Containers (Sequential, ModuleList, ModuleDict) register their members by name with
 * `addModule` instead, which keeps any name (`"0"`, `"10"`, `"fc"`) in insertion order.
 *
 * Forward hooks: PyTorch runs a module's hooks when it is called, `module(x)`; here modules are
 * called as `module.forward(x)`, so registering the first hook installs, on that instance only, a
 * `forward` that runs the pre-hooks, the class's own `forward`, then the hooks. Subclasses keep
 * declaring a plain `forward` (its parameter and result types are what callers and hooks see), a
 * module without hooks pays nothing, and a subclass's `super.forward(...)` reaches the parent's
 * method without running the hooks a second time.
 */
import { formatSize, sameShape } from "../shape";
import { noGrad } from "../autograd/grad-mode";
import { Tensor } from "../tensor";
import { zeroGradOf } from "../autograd/grad-slot";
import { checkOptions } from "../options";

/** A leaf tensor that requires grad and that `parameters()` finds when assigned to a module field. */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.detach().contiguous().nd, data.dtype);
    this.requiresGrad_(requiresGrad);
  }
}

export type StateDict = Record<string, Tensor>;

/** What registering a hook returns (PyTorch's RemovableHandle): `remove()` unregisters it; removing twice is harmless. */
export interface RemovableHandle {
  readonly id: number;
  remove(): void;
}

/** The arguments and the result of a module's `forward`, as its class declares them. */
export type ForwardInputs<M extends Module> = Parameters<M["forward"]>;
export type ForwardOutput<M extends Module> = ReturnType<M["forward"]>;

/**
 * Runs before `forward` with its arguments. Returning an array replaces the arguments; returning
 * anything else but undefined or null replaces them with that one value (PyTorch wraps a
 * non-tuple in a tuple); returning nothing keeps them.
 */
export type ForwardPreHook<M extends Module> = (module: M, inputs: ForwardInputs<M>) => ForwardInputs<M> | void;
/** Runs after `forward` with its arguments and result; returning anything but undefined or null replaces the result. */
export type ForwardHook<M extends Module> = (module: M, inputs: ForwardInputs<M>, output: ForwardOutput<M>) => ForwardOutput<M> | void;

type AnyPreHook = (module: Module, inputs: unknown[]) => unknown;
type AnyHook = (module: Module, inputs: unknown[], output: unknown) => unknown;

interface Hooks {
  pre: Map<number, AnyPreHook>;
  post: Map<number, AnyHook>;
}

/** Hook ids are unique across modules, as PyTorch's handles' ids are. */
let nextHookId = 0;

/** The hooks around one call of `forward` (`inner`, the class's own), in registration order. */
function callWithHooks(module: Module, inner: (...inputs: unknown[]) => unknown, inputs: unknown[], hooks: Hooks): unknown {
  let args = inputs;
  for (const hook of [...hooks.pre.values()]) {
    const replaced = hook(module, args);
    if (replaced !== undefined && replaced !== null) args = Array.isArray(replaced) ? replaced : [replaced];
  }
  let output = inner.apply(module, args);
  for (const hook of [...hooks.post.values()]) {
    const replaced = hook(module, args, output);
    if (replaced !== undefined && replaced !== null) output = replaced;
  }
  return output;
}

/**
 * `In` and `Out` are the types of `forward`'s arguments and result. A subclass may leave them at
 * their defaults and simply declare its own `forward`: callers see that declaration. They matter
 * where only `Module` is known (a child, a Sequential's member): there a result is `unknown`
 * rather than `any`, and `Module<[Tensor], Tensor>` says "takes a tensor, returns a tensor".
 */
export abstract class Module<In extends unknown[] = unknown[], Out = unknown> {
  training = true;
  private readonly bufferNames = new Set<string>();
  /** Members registered by name with `addModule` (PyTorch's `_modules` for containers). */
  readonly #registered = new Map<string, Module>();
  #hooks: Hooks | null = null;

  abstract forward(...inputs: In): Out;

  /** `[name, value]` for each own field that holds a parameter, module, or an array of them, then each registered module. */
  private fields(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const [name, value] of Object.entries(this)) {
      if (name === "bufferNames" || name === "training") continue;
      if (Array.isArray(value)) value.forEach((v, i) => out.push([`${name}.${i}`, v]));
      else out.push([name, value]);
    }
    out.push(...this.#registered);
    return out;
  }

  /**
   * Registers `module` as a child named `name` (PyTorch's `add_module`), with its checks and
   * words; a name already registered is replaced in place.
   */
  addModule(name: string, module: Module): void {
    if (!(module instanceof Module)) throw new TypeError(`${typeName(module)} is not a Module subclass`);
    if (typeof name !== "string") throw new TypeError(`module name should be a string. Got ${typeName(name)}`);
    if (name in this && !this.#registered.has(name)) throw new Error(`attribute '${name}' already exists`);
    if (name.includes(".")) throw new Error(`module name can't contain ".", got: ${name}`);
    if (name === "") throw new Error('module name can\'t be empty string ""');
    this.#registered.set(name, module);
  }

  /** The registered members, for containers that reorder or remove them. */
  protected get registeredModules(): Map<string, Module> {
    return this.#registered;
  }

  /** The direct sub-modules by name, each once. */
  namedChildren(): Array<[string, Module]> {
    const seen = new Set<Module>();
    const out: Array<[string, Module]> = [];
    for (const [name, value] of this.fields()) {
      if (!(value instanceof Module) || seen.has(value)) continue;
      seen.add(value);
      out.push([name, value]);
    }
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * This module and every module below it, depth first, each once, with its dotted name (`""` for
   * this one, `"layers.0"` below), as PyTorch's `named_modules`.
   */
  namedModules(prefix = ""): Array<[string, Module]> {
    const seen = new Set<Module>();
    const out: Array<[string, Module]> = [];
    const visit = (module: Module, path: string) => {
      if (seen.has(module)) return;
      seen.add(module);
      out.push([path, module]);
      for (const [name, child] of module.namedChildren()) visit(child, path ? `${path}.${name}` : name);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and every module below it, depth first, each once. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Calls `fn` on every sub-module, children before their parent (as PyTorch), then on this one; returns this module. */
  apply(fn: (module: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  /** Sets `requiresGrad` on every parameter (e.g. to freeze a part of a model); returns this module. */
  requiresGrad_(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /** How many numbers the parameters hold (a parameter shared by two fields counts once). */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  /** `hook(module, inputs)` runs before each `forward` and may replace its arguments. */
  registerForwardPreHook(hook: ForwardPreHook<this>): RemovableHandle {
    return this.addHook("pre", hook as unknown as AnyPreHook);
  }

  /** `hook(module, inputs, output)` runs after each `forward` and may replace its result. */
  registerForwardHook(hook: ForwardHook<this>): RemovableHandle {
    return this.addHook("post", hook as unknown as AnyHook);
  }

  private addHook<K extends keyof Hooks>(kind: K, hook: Hooks[K] extends Map<number, infer H> ? H : never): RemovableHandle {
    const hooks = this.installHooks();
    const id = nextHookId++;
    (hooks[kind] as Map<number, typeof hook>).set(id, hook);
    return { id, remove: () => void hooks[kind].delete(id) };
  }

  /** The first hook replaces this instance's `forward` by one that runs the hooks around the class's own. */
  private installHooks(): Hooks {
    if (this.#hooks) return this.#hooks;
    const hooks: Hooks = { pre: new Map(), post: new Map() };
    const inner = this.forward as (...inputs: unknown[]) => unknown;
    Object.defineProperty(this, "forward", {
      value: (...inputs: unknown[]) => callWithHooks(this, inner, inputs, hooks),
      writable: true,
      configurable: true,
      enumerable: false,
    });
    this.#hooks = hooks;
    return hooks;
  }

  /** Dotted names (`"bag.weight"`) in assignment order; a parameter shared by two fields is listed once. */
  namedParameters(prefix = ""): Array<[string, Parameter]> {
    const seen = new Set<Parameter>();
    const out: Array<[string, Parameter]> = [];
    // As PyTorch: a module's own parameters, in assignment order, before its children's.
    const visit = (module: Module, path: string) => {
      const fields = module.fields();
      for (const [name, value] of fields) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          out.push([path + name, value]);
        }
      }
      for (const [name, value] of fields) if (value instanceof Module) visit(value, `${path}${name}.`);
    };
    visit(this, prefix ? `${prefix}.` : "");
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** A tensor that belongs to the state (saved and loaded) but is not trained, like running statistics. */
  registerBuffer(name: string, value: Tensor): void {
    (this as Record<string, unknown>)[name] = value;
    this.bufferNames.add(name);
  }

  namedBuffers(prefix = ""): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const name of this.bufferNames) {
      const value = (this as Record<string, unknown>)[name];
      if (value instanceof Tensor) out.push([prefix + name, value]);
    }
    for (const [name, child] of this.namedChildren()) out.push(...child.namedBuffers(`${prefix}${name}.`));
    return out;
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears the gradients of every parameter: to null by default (PyTorch 2's default), or to zeros in place. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    checkOptions("zeroGrad", options, ["setToNone"]);
    for (const p of this.parameters()) zeroGradOf(p, options.setToNone ?? true);
  }

  /** Parameters and buffers by dotted name; the tensors share storage with the module's. */
  stateDict(): StateDict {
    const state: StateDict = {};
    // PyTorch's order: each module's own parameters, then its own buffers, then its children's.
    const buffers = new Map(this.namedBuffers());
    const byModule = new Map<string, Array<[string, Tensor]>>();
    const moduleOf = (name: string) => name.slice(0, name.lastIndexOf(".") + 1);
    for (const [name, t] of [...this.namedParameters(), ...buffers]) {
      const key = moduleOf(name);
      if (!byModule.has(key)) byModule.set(key, []);
      byModule.get(key)!.push([name, t]);
    }
    const visit = (module: Module, path: string) => {
      for (const [name, t] of byModule.get(path) ?? []) state[name] = t.detach();
      for (const [name, child] of module.namedChildren()) visit(child, `${path}${name}.`);
    };
    visit(this, "");
    return state;
  }

  /**
   * Copies `state` into the module's tensors in place. Missing, unexpected and wrongly shaped
   * entries are all reported in one error, in PyTorch's words, before anything is copied.
   */
  loadStateDict(state: StateDict, options: { strict?: boolean } = {}): void {
    checkOptions("loadStateDict", options, ["strict"]);
    const strict = options.strict ?? true;
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const problems: string[] = [];
    const missing = [...own.keys()].filter((k) => !(k in state));
    const unexpected = Object.keys(state).filter((k) => !own.has(k));
    if (strict && unexpected.length) problems.push(`Unexpected key(s) in state_dict: ${unexpected.map((k) => `"${k}"`).join(", ")}. `);
    if (strict && missing.length) problems.push(`Missing key(s) in state_dict: ${missing.map((k) => `"${k}"`).join(", ")}. `);
    for (const [name, target] of own) {
      const source = state[name];
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) {
        problems.push(`While copying the parameter named "${name}", expected a Tensor but got ${typeof source}.`);
      } else if (!sameShape(source.shape, target.shape)) {
        problems.push(
          `size mismatch for ${name}: copying a param with shape ${formatSize(source.shape)} from checkpoint, the shape in current model is ${formatSize(target.shape)}.`,
        );
      }
    }
    if (problems.length) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join("\n\t")}`);
    }
    noGrad(() => {
      for (const [name, target] of own) {
        const source = state[name];
        if (source) copyInto(target, source);
      }
    });
  }

  /** PyTorch's module summary line(s), e.g. `Linear(in_features=3, out_features=2, bias=True)`. */
  extraRepr(): string {
    return "";
  }

  toString(): string {
    const children = this.namedChildren();
    if (children.length === 0) return `${this.constructor.name}(${this.extraRepr()})`;
    const lines = children.map(([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, "\n  ")}`);
    const extra = this.extraRepr() ? `\n  ${this.extraRepr()}` : "";
    return `${this.constructor.name}(${extra}\n${lines.join("\n")}\n)`;
  }
}

/** How PyTorch's messages name a value's type (`torch.typename`), for the few types a caller may pass. */
function typeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (value instanceof Tensor) return "torch.Tensor";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "str";
  return typeof value === "object" ? ((value as object).constructor?.name ?? "object") : typeof value;
}

/** Overwrites `target`'s values with `source`'s (converted to target's dtype), keeping its storage. */
export function copyInto(target: Tensor, source: Tensor): void {
  const values = source.to(target.dtype).toArray();
  const { data, offset } = target.contiguous().nd;
  if (target.isContiguous()) data.set(values, offset);
  else throw new Error("copyInto needs a contiguous target");
}
