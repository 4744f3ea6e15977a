/**
 * `Module` and `Parameter`. A module finds its parameters and sub-modules by looking at its own
 * fields, in assignment order, so a subclass only assigns them and implements `forward`.
 */
import { formatSize, sameShape } from "../shape";
import { noGrad } from "../autograd/grad-mode";
import { Tensor } from "../tensor";
import { zeroGradOf } from "../autograd/grad-slot";

/** A leaf tensor that requires grad and that `parameters()` finds when assigned to a module field. */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    super(data.detach().contiguous().nd, data.dtype);
    this.requiresGrad_(requiresGrad);
  }
}

export type StateDict = Record<string, Tensor>;

/**
 * `In` and `Out` are the types of `forward`'s arguments and result. A subclass may leave them at
 * their defaults and simply declare its own `forward`: callers see that declaration. They matter
 * where only `Module` is known (a child, a Sequential's member): there a result is `unknown`
 * rather than `any`, and `Module<[Tensor], Tensor>` says "takes a tensor, returns a tensor".
 */
export abstract class Module<In extends unknown[] = unknown[], Out = unknown> {
  training = true;
  private readonly bufferNames = new Set<string>();

  abstract forward(...inputs: In): Out;

  /** `[name, value]` for each own field that holds a parameter, module, or an array of them. */
  private fields(): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    for (const [name, value] of Object.entries(this)) {
      if (name === "bufferNames" || name === "training") continue;
      if (Array.isArray(value)) value.forEach((v, i) => out.push([`${name}.${i}`, v]));
      else out.push([name, value]);
    }
    return out;
  }

  namedChildren(): Array<[string, Module]> {
    return this.fields().filter((f): f is [string, Module] => f[1] instanceof Module);
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it, depth first. */
  modules(): Module[] {
    return [this, ...this.children().flatMap((c) => c.modules())];
  }

  /** Dotted names (`"bag.weight"`) in assignment order; a parameter shared by two fields is listed once. */
  namedParameters(prefix = ""): Array<[string, Parameter]> {
    const seen = new Set<Parameter>();
    const out: Array<[string, Parameter]> = [];
    const visit = (module: Module, path: string) => {
      for (const [name, value] of module.fields()) {
        if (value instanceof Parameter && !seen.has(value)) {
          seen.add(value);
          out.push([path + name, value]);
        } else if (value instanceof Module) visit(value, `${path}${name}.`);
      }
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
    for (const p of this.parameters()) zeroGradOf(p, options.setToNone ?? true);
  }

  /** Parameters and buffers by dotted name; the tensors share storage with the module's. */
  stateDict(): StateDict {
    const state: StateDict = {};
    for (const [name, p] of this.namedParameters()) state[name] = p.detach();
    for (const [name, b] of this.namedBuffers()) state[name] = b.detach();
    return state;
  }

  /**
   * Copies `state` into the module's tensors in place. Missing, unexpected and wrongly shaped
   * entries are all reported in one error, in PyTorch's words, before anything is copied.
   */
  loadStateDict(state: StateDict, options: { strict?: boolean } = {}): void {
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

/** Overwrites `target`'s values with `source`'s (converted to target's dtype), keeping its storage. */
export function copyInto(target: Tensor, source: Tensor): void {
  const values = source.to(target.dtype).toArray();
  const { data, offset } = target.contiguous().nd;
  if (target.isContiguous()) data.set(values, offset);
  else throw new Error("copyInto needs a contiguous target");
}
