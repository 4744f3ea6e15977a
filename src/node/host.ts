/**
 * What Node's entry tells the portable core about its host, once, when it is loaded: the machine's
 * memory (the classifier refuses tables that could not fit), and where the WebAssembly kernels
 * are (kernels.wasm beside the build, read from disk, in place of the copy embedded for bundlers;
 * a missing or unreadable file leaves every kernel on TypeScript, as TORCHLET_NO_WASM=1 does),
 * how many cores it has and a pool of worker threads (node/pool.ts) for the parallel kernels.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setCores, setThreadPool, setTotalMemory } from "../host";
import { setKernelSource } from "../kernels/wasm";
import { NodePool } from "./pool";

setTotalMemory(() => os.totalmem());
setCores(() => os.availableParallelism());
setThreadPool(new NodePool());
setKernelSource(() => fs.readFileSync(path.join(__dirname, "..", "kernels", "kernels.wasm")));
