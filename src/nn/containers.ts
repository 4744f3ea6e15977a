/**
 * Containers: `Sequential` (a chain), `ModuleList` and `ModuleDict` (holders whose members'
 * parameters a model finds and names: `layers.0.weight`, `heads.cls.bias`). Members are
 * registered with `addModule`, in insertion order, whatever their names.
 */
import type { Tensor } from "../tensor";
import { Module } from "./module";

/** PyTorch's error for calling a container that has no forward of its own. */
function missingForward(module: Module): never {
  throw new Error(`Module [${module.constructor.name}] is missing the required "forward" function`);
}

/** What Sequential and ModuleList share: members by position, `"0"`, `"1"`, ... for those added by position. */
abstract class ModuleSequence<M extends Module, In extends unknown[], Out> extends Module<In, Out> implements Iterable<M> {
  /** The members in order (a module added twice appears twice, and a Sequential runs it twice). */
  protected members(): M[] {
    return [...this.registeredModules.values()] as M[];
  }

  get length(): number {
    return this.registeredModules.size;
  }

  /** Position `index` (negative counts from the end), checked as PyTorch checks it. */
  protected position(index: number, length = this.length): number {
    const i = index < 0 ? index + length : index;
    if (!Number.isInteger(i) || i < 0 || i >= length) throw new RangeError(`index ${index} is out of range`);
    return i;
  }

  /** The module at `index` (negative counts from the end). */
  at(index: number): M {
    return this.members()[this.position(index)];
  }

  /** Appends a module at the end, named by its position. */
  append(module: M): this {
    this.addModule(String(this.length), module);
    return this;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.members()[Symbol.iterator]();
  }
}

/**
 * Runs its modules in order, each one's output the next one's input. Children are named "0", "1", ...
 * (or by the keys of the one record given). Every module it is given takes one tensor and returns
 * one, so the chain's result is a tensor too.
 */
export class Sequential extends ModuleSequence<Module<[Tensor], Tensor>, [Tensor], Tensor> {
  constructor(...modules: Array<Module<[Tensor], Tensor>> | [Record<string, Module<[Tensor], Tensor>>]) {
    super();
    const named: Array<[string, Module<[Tensor], Tensor>]> =
      modules.length === 1 && !(modules[0] instanceof Module)
        ? Object.entries(modules[0] as Record<string, Module<[Tensor], Tensor>>)
        : (modules as Array<Module<[Tensor], Tensor>>).map((m, i) => [String(i), m]);
    for (const [name, m] of named) this.addModule(name, m);
  }

  /** Registers `module` under `name` (PyTorch's `add_module`); a Sequential only takes Tensor-to-Tensor modules. */
  override addModule(name: string, module: Module<[Tensor], Tensor>): void {
    super.addModule(name, module);
  }

  forward(input: Tensor): Tensor {
    let x = input;
    for (const m of this.members()) x = m.forward(x);
    return x;
  }
}

/**
 * A list of modules whose parameters belong to the model that holds it (a plain array field is
 * found too; this is PyTorch's spelling). Members are named "0", "1", ... and renumbered when
 * one is inserted or removed. It has no forward: a model iterates it in its own.
 */
export class ModuleList<M extends Module = Module> extends ModuleSequence<M, [], never> {
  constructor(modules: Iterable<M> = []) {
    super();
    this.extend(modules);
  }

  /** Renames the members "0", "1", ... in the given order. */
  private renumber(members: M[]): void {
    this.registeredModules.clear();
    members.forEach((m, i) => this.addModule(String(i), m));
  }

  /** Replaces the module at `index`. */
  set(index: number, module: M): this {
    const members = this.members();
    members[this.position(index)] = module;
    this.renumber(members);
    return this;
  }

  /** Inserts `module` before position `index` (negative counts from the end; past either end, at that end). */
  insert(index: number, module: M): this {
    const members = this.members();
    const at = index < 0 ? Math.max(index + members.length, 0) : Math.min(index, members.length);
    members.splice(at, 0, module);
    this.renumber(members);
    return this;
  }

  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  /** Removes and returns the module at `index` (the last by default). */
  pop(index = -1): M {
    const members = this.members();
    const [removed] = members.splice(this.position(index), 1);
    this.renumber(members);
    return removed;
  }

  forward(): never {
    return missingForward(this);
  }
}

/**
 * Modules by name, in insertion order, whose parameters belong to the model that holds it
 * (`heads.cls.weight`). Iterating it gives the names, as PyTorch's. It has no forward.
 */
export class ModuleDict<M extends Module = Module> extends Module<[], never> implements Iterable<string> {
  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    this.update(modules);
  }

  get length(): number {
    return this.registeredModules.size;
  }

  /** The module named `key`; a missing key throws PyTorch's KeyError text (the quoted key). */
  get(key: string): M {
    const m = this.registeredModules.get(key);
    if (m === undefined) throw new Error(`'${key}'`);
    return m as M;
  }

  /** Adds or replaces the module named `key` (PyTorch's `d[key] = module`, with `add_module`'s checks). */
  set(key: string, module: M): this {
    this.addModule(key, module);
    return this;
  }

  has(key: string): boolean {
    return this.registeredModules.has(key);
  }

  /** Removes and returns the module named `key`. */
  pop(key: string): M {
    const m = this.get(key);
    this.registeredModules.delete(key);
    return m;
  }

  clear(): void {
    this.registeredModules.clear();
  }

  /** Adds or replaces every module of `modules` (a record or `[name, module]` pairs), in order. */
  update(modules: Record<string, M> | Iterable<[string, M]>): this {
    const pairs = Symbol.iterator in modules ? [...(modules as Iterable<[string, M]>)] : Object.entries(modules);
    for (const [key, m] of pairs) this.set(key, m);
    return this;
  }

  keys(): string[] {
    return [...this.registeredModules.keys()];
  }

  values(): M[] {
    return [...this.registeredModules.values()] as M[];
  }

  items(): Array<[string, M]> {
    return [...this.registeredModules.entries()] as Array<[string, M]>;
  }

  [Symbol.iterator](): Iterator<string> {
    return this.keys()[Symbol.iterator]();
  }

  forward(): never {
    return missingForward(this);
  }
}
