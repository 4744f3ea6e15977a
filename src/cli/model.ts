/** Loading a model for `test` and `predict`: every failure is one line naming the file. */
import * as fs from "fs";
import type { TextClassifier } from "../text/classifier";
import { ModelFileError, loadClassifier } from "../text/model-file";
import { describeFsError } from "./formats";
import { CliError } from "./output";

export function loadModel(file: string): TextClassifier {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw new CliError(`${file}: is a directory, not a model file`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${file}: ${describeFsError(err)}`);
  }
  try {
    return loadClassifier(file);
  } catch (err) {
    if (err instanceof ModelFileError) throw new CliError(err.message.startsWith(file) ? err.message : `${file}: ${err.message}`);
    const e = err as NodeJS.ErrnoException;
    if (e?.code) throw new CliError(`${file}: ${describeFsError(err)}`);
    // Anything else means the file passed the format checks but its contents do not fit together.
    throw new CliError(`${file}: not a usable torchlet model: ${(e?.message ?? String(err)).split("\n")[0]}`);
  }
}
