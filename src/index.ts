/**
 * torchlet's public surface in Node: `import * as torch from "torchlet"` (package.json's `node`
 * condition, and `torchlet/node`). Everything of browser.ts, with three namespaces that reach
 * the file system in their Node form: `io` (safetensors files), `text` (model files), `data`
 * (loadSpamAssassin), and torch.save/torch.load (state dicts as safetensors files). node/host.ts
 * tells the core what Node knows of the machine.
 */
import "./node/host";

export * from "./browser";
export * as io from "./io/safetensors";
export * as text from "./node/text";
export * as data from "./data";
export { save, load } from "./io/state-dict";
