/**
 * What Node's entry tells the portable core about its host, once, when it is loaded: the machine's
 * memory (the classifier refuses tables that could not fit), and where the WebAssembly kernels
 * are (kernels.wasm beside the build, read from disk, in place of the copy embedded for bundlers;
 * a missing or unreadable file leaves every kernel on TypeScript, as TORCHLET_NO_WASM=1 does).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTotalMemory } from "../host";
import { setKernelSource } from "../kernels/wasm";

setTotalMemory(() => os.totalmem());
setKernelSource(() => fs.readFileSync(path.join(__dirname, "..", "kernels", "kernels.wasm")));
