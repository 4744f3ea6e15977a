/**
 * The peers: TensorFlow.js (tfjs-core 4.22) with its `wasm` backend (SIMD, one thread: Node has
 * no threads for it) and its `cpu` backend (plain JavaScript), in this process.
 *
 * tfjs-core's CommonJS bundle ships no gradient functions: the umbrella `@tensorflow/tfjs`
 * package adds them with `import "@tensorflow/tfjs-core/dist/register_all_gradients"`, an ES
 * module tree whose relative imports have no file extensions (written for bundlers). Node cannot
 * resolve those on its own, so a small resolve hook adds ".js" to them; the gradients then
 * register into tfjs's global registry, which the CommonJS engine shares (tfjs keeps its engine,
 * kernel and gradient registries and Tensor class on `globalThis` for exactly this case). These
 * are tfjs's own gradient functions, unchanged.
 *
 * `tf.enableProdMode()` turns off tfjs's debug-time checks, as a user tuning tfjs would.
 */
import * as path from "node:path";
import { register } from "node:module";
import { pathToFileURL } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

export type PeerName = "tfjs-wasm" | "tfjs-cpu";
export const PEER_NAMES: readonly PeerName[] = ["tfjs-wasm", "tfjs-cpu"];

export interface Peer {
  name: PeerName;
  tf: typeof tf;
  /** Makes this peer's backend the active one; tensors made afterwards live there. */
  use(): Promise<void>;
  /** How the backend was set up, for results.json. */
  describe(): string;
}

/** Adds ".js" to tfjs-core's extensionless relative ES imports (and tries /index.js for folders). */
const RESOLVE_HOOK = `
const TFJS = "/@tensorflow/tfjs-core/dist/";
export async function resolve(specifier, context, next) {
  const relative = specifier.startsWith("./") || specifier.startsWith("../");
  if (!relative || !context.parentURL || !context.parentURL.includes(TFJS) || /\\.[cm]?js$/.test(specifier)) {
    return next(specifier, context);
  }
  try {
    return await next(specifier + ".js", context);
  } catch {
    try {
      return await next(specifier + "/index.js", context);
    } catch {
      return next(specifier, context);
    }
  }
}
`;

/** A real `import()` (TypeScript would turn one into `require` in a CommonJS build). */
const importModule = new Function("url", "return import(url)") as (url: string) => Promise<unknown>;

let gradientsLoaded = false;

async function loadGradients(): Promise<void> {
  if (gradientsLoaded) return;
  register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
  const file = require.resolve("@tensorflow/tfjs-core/dist/register_all_gradients.js");
  await importModule(pathToFileURL(file).href);
  gradientsLoaded = true;
}

let wasmSimd: boolean | null = null;

/** Loads tfjs, its gradients and the requested backends; checks each backend starts. */
export async function loadPeers(names: readonly PeerName[]): Promise<Peer[]> {
  if (names.length === 0) return [];
  tf.enableProdMode();
  await loadGradients();
  const wasmDir = path.join(path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "dist");
  setWasmPaths(wasmDir + path.sep);
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);

  const peers: Peer[] = [];
  for (const name of names) {
    const backend = name === "tfjs-wasm" ? "wasm" : "cpu";
    const use = async (): Promise<void> => {
      if (tf.getBackend() !== backend && !(await tf.setBackend(backend))) {
        throw new Error(`tfjs backend "${backend}" failed to initialise`);
      }
      await tf.ready();
    };
    await use();
    if (backend === "wasm") wasmSimd = (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) as boolean;
    peers.push({
      name,
      tf,
      use,
      describe: () =>
        backend === "wasm"
          ? `@tensorflow/tfjs-backend-wasm ${tf.version_core}, ${wasmSimd ? "SIMD" : "no SIMD"}, 1 thread, prod mode`
          : `@tensorflow/tfjs-backend-cpu ${tf.version_core}, prod mode`,
    });
  }
  return peers;
}
