/** The examples run with small settings, so that they never rot. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as torch from "torchlet";
import { captured } from "./helpers/console";

describe("examples/train-text-classifier.ts", () => {
  test("trains a spam filter on a slice of SpamAssassin, well above chance, and saves it", async () => {
    const { main } = await import("../examples/train-text-classifier");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-example-"));
    const output = path.join(dir, "spam.safetensors");
    const { result, output: printed } = captured(() => main(["--limit", "150", "--epochs", "5", "--buckets", "65536", "--output", output]));
    expect(result.accuracy).toBeGreaterThan(0.85);
    expect(printed).toMatch(/epoch {2}5\/5 {2}loss \d\.\d{4} {2}train acc/);
    expect(printed).toMatch(/test accuracy 0\.\d{4}/);
    expect(printed).toMatch(/confusion matrix/);
    expect(printed).toMatch(/top spam words: \w+/);
    const reloaded = torch.text.loadClassifier(output);
    expect(reloaded.config.task).toBe("binary");
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
