/**
 * `Optimizer`: parameter groups (each a list of parameters plus its own options), per-parameter
 * state, `zeroGrad`, and `stateDict` / `loadStateDict` in PyTorch's structure
 * (`{state: {index: {...}}, paramGroups: [{...options, params: [index, ...]}]}`, camelCase keys).
 */
import { enableGrad, noGrad } from "../autograd/grad-mode";
import { checkOptions } from "../options";
import { scalarTypeName } from "../dtype";
import { type GradSlot, zeroGradOf } from "../autograd/grad-slot";
import { Tensor } from "../tensor";

/** A group of parameters sharing options; schedulers read and write `lr` (and `initialLr`). */
export interface ParamGroup {
  params: Tensor[];
  lr: number;
  initialLr?: number;
  [option: string]: unknown;
}

/** What the constructor and `addParamGroup` accept: parameters and any per-group options. */
export type ParamGroupInput = { params: Iterable<Tensor> | Tensor } & Record<string, unknown>;

export type Params = Iterable<Tensor> | Iterable<ParamGroupInput>;

export type PerParamState = Record<string, unknown>;

export interface OptimizerStateDict {
  state: Record<number, PerParamState>;
  paramGroups: Array<Record<string, unknown> & { params: number[] }>;
}

/** Marks an option every group must end up with (PyTorch's `required`). */
export const required: unique symbol = Symbol("required");

function typeName(x: unknown): string {
  if (x instanceof Tensor) return `torch.${scalarTypeName(x.dtype)}Tensor`;
  if (x === null) return "NoneType";
  if (Array.isArray(x)) return "list";
  return typeof x === "object" ? ((x as object).constructor?.name ?? "object") : typeof x;
}

/**
 * A deep copy of saved state, floating tensors cast to the dtype of their parameter `like` (as
 * PyTorch does), except a `step` counter: it stays the float32 tensor the optimizers count in.
 */
function cloneState(value: unknown, like?: Tensor): unknown {
  if (value instanceof Tensor) {
    const target =
      like && value.dtype !== like.dtype && like.dtype.startsWith("float") && value.dtype.startsWith("float")
        ? value.to(like.dtype)
        : value;
    return Tensor.fromArray(target.toArray().slice(), target.shape, target.dtype);
  }
  if (Array.isArray(value)) return value.map((v) => cloneState(v, like));
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    return Object.fromEntries(entries.map(([k, v]) => [k, cloneState(v, k === "step" ? undefined : like)]));
  }
  return value;
}

export abstract class Optimizer {
  readonly defaults: Record<string, unknown>;
  readonly paramGroups: ParamGroup[] = [];
  /** Per-parameter state (for SGD: `momentumBuffer`). */
  state = new Map<Tensor, PerParamState>();

  constructor(params: Params, defaults: Record<string, unknown>) {
    this.defaults = defaults;
    if (params instanceof Tensor) {
      throw new TypeError(`params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${typeName(params)}`);
    }
    if (params === null || params === undefined || typeof (params as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(`params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${typeName(params)}`);
    }
    let groups = [...(params as Iterable<Tensor | ParamGroupInput>)];
    if (groups.length === 0) throw new Error("optimizer got an empty parameter list");
    const first = groups[0];
    if (first instanceof Tensor || first === null || typeof first !== "object" || !("params" in first)) {
      groups = [{ params: groups as Tensor[] }];
    }
    for (const g of groups as ParamGroupInput[]) this.addParamGroup(g);
  }

  /** Adds a group; options it leaves out come from the defaults. */
  addParamGroup(group: ParamGroupInput): void {
    if (group === null || typeof group !== "object") throw new TypeError("param group must be a dict");
    const { params } = group;
    let list: Tensor[];
    if (params instanceof Tensor) list = [params];
    else if (params instanceof Set) {
      throw new TypeError(
        "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets will change between runs. Please use a list instead.",
      );
    } else if (params && typeof (params as Iterable<Tensor>)[Symbol.iterator] === "function") list = [...(params as Iterable<Tensor>)];
    else throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeName(params)}`);
    for (const p of list) {
      if (!(p instanceof Tensor)) throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeName(p)}`);
      if (!p.isLeaf) throw new Error("can't optimize a non-leaf Tensor");
    }
    const merged: Record<string, unknown> = { ...group, params: list };
    for (const [name, value] of Object.entries(this.defaults)) {
      if (merged[name] === undefined) {
        if (value === required) throw new Error(`parameter group didn't specify a value of required optimization parameter ${name}`);
        merged[name] = value;
      }
    }
    if (new Set(list).size !== list.length) {
      // PyTorch warns here; the duplicates would be updated twice, so keep one of each.
      merged.params = [...new Set(list)];
    }
    const taken = new Set(this.paramGroups.flatMap((g) => g.params));
    if (list.some((p) => taken.has(p))) throw new Error("some parameters appear in more than one parameter group");
    this.checkGroup(merged);
    this.paramGroups.push(merged as ParamGroup);
  }

  /** Validates a group's options (subclasses throw in PyTorch's words). */
  protected checkGroup(_group: Record<string, unknown>): void {}

  /**
   * Clears the gradients: to null (the default), or to zeros in place with `setToNone: false`
   * (the gradient slot zeroes only the rows a row-sparse gradient wrote).
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    checkOptions("zeroGrad", options, ["setToNone"]);
    const setToNone = options.setToNone ?? true;
    for (const group of this.paramGroups) for (const p of group.params) zeroGradOf(p, setToNone);
  }

  /** Performs one update; `closure` (re-evaluating the loss) runs with grad mode on and its value is returned. */
  abstract step(closure?: () => Tensor | number): Tensor | number | undefined;

  /** Runs the closure, if any, with grad mode on (as `step` does in PyTorch). */
  protected evaluate(closure?: () => Tensor | number): Tensor | number | undefined {
    return closure === undefined ? undefined : enableGrad(closure);
  }

  /**
   * A whole `step`: evaluates the closure, then, outside the graph, calls `update` for every
   * parameter that has a gradient, group by group, with its state (created empty on first use,
   * like PyTorch's `defaultdict`). Returns the closure's loss.
   */
  protected updateEach<G extends ParamGroup>(
    closure: (() => Tensor | number) | undefined,
    update: (p: Tensor, slot: GradSlot, group: G, state: PerParamState) => void,
  ): Tensor | number | undefined {
    const loss = this.evaluate(closure);
    withoutGrad(() => {
      for (const group of this.paramGroups as G[]) {
        for (const p of group.params) {
          const slot = p.gradSlot;
          if (slot === null || slot.isEmpty()) continue;
          update(p, slot, group, this.stateOf(p));
          // The parameter changed in place: a graph that saved it must not be run backward again.
          p.bumpVersion();
        }
      }
    });
    return loss;
  }

  /** The state of `p`, created (empty) and kept on first use. */
  protected stateOf(p: Tensor): PerParamState {
    let state = this.state.get(p);
    if (state === undefined) {
      state = {};
      this.state.set(p, state);
    }
    return state;
  }

  /** `{state, paramGroups}`: parameters are numbered across groups in order; tensors are shared, not copied. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(group)) if (k !== "params") packed[k] = v;
      packed.params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return packed as Record<string, unknown> & { params: number[] };
    });
    const state: Record<number, PerParamState> = {};
    for (const [p, s] of this.state) {
      const i = index.get(p);
      if (i !== undefined) state[i] = { ...s };
    }
    return { state, paramGroups };
  }

  /** Restores options and state saved by `stateDict` (copied, and cast to each parameter's dtype). */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const saved = stateDict?.paramGroups;
    if (!Array.isArray(saved) || typeof stateDict.state !== "object" || stateDict.state === null) {
      throw new Error("optimizer state dict must have 'state' and 'paramGroups'");
    }
    if (saved.length !== this.paramGroups.length) throw new Error("loaded state dict has a different number of parameter groups");
    if (saved.some((g, i) => !Array.isArray(g.params) || g.params.length !== this.paramGroups[i].params.length)) {
      throw new Error("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    }
    const byId = new Map<number, Tensor>();
    saved.forEach((g, i) => g.params.forEach((id, j) => byId.set(Number(id), this.paramGroups[i].params[j])));
    const state = new Map<Tensor, PerParamState>();
    for (const [key, value] of Object.entries(stateDict.state)) {
      const p = byId.get(Number(key));
      if (p === undefined) continue;
      state.set(p, cloneState(value, p) as PerParamState);
    }
    saved.forEach((g, i) => {
      const group: Record<string, unknown> = { ...(cloneState({ ...g, params: [] }) as Record<string, unknown>) };
      group.params = this.paramGroups[i].params;
      this.paramGroups[i] = group as ParamGroup;
    });
    this.state = state;
  }
}

/** Runs an update body outside the graph (PyTorch decorates `step` with `torch.no_grad()`). */
export function withoutGrad<T>(fn: () => T): T {
  return noGrad(fn);
}
