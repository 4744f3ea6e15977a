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

describe("examples/gradient-penalty.ts", () => {
  test("the penalty (a gradient of a gradient) smooths the classifier, and the Hessian-vector product matches finite differences", async () => {
    const { main } = await import("../examples/gradient-penalty");
    const penalised = captured(() => main(["--epochs", "60"]));
    const plain = captured(() => main(["--epochs", "60", "--lambda", "0"]));
    expect(penalised.result.accuracy).toBeGreaterThan(0.9);
    // Without the penalty the input gradients grow many times larger.
    expect(plain.result.penalty).toBeGreaterThan(5 * penalised.result.penalty);
    expect(penalised.result.hvpError).toBeLessThan(0.01 * penalised.result.hvpScale);
    expect(penalised.output).toMatch(/gradient penalty \d+\.\d{4}/);
    expect(penalised.output).toMatch(/Hessian-vector product: largest difference from finite differences/);
  });
});

describe("examples/mlp-classifier.ts", () => {
  test("trains an MLP on the iris flowers (AdamW, one-cycle, clipping, DataLoader) and saves it with torch.save", async () => {
    const { main } = await import("../examples/mlp-classifier");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-iris-"));
    const output = path.join(dir, "iris.safetensors");
    const { result, output: printed } = captured(() => main(["--epochs", "20", "--output", output]));
    expect(result.accuracy).toBeGreaterThan(0.85);
    expect(printed).toMatch(/epoch 20\/20 {2}loss \d\.\d{4} {2}train acc 0\.\d{3}/);
    expect(printed).toMatch(/test accuracy [01]\.\d{4} \(30 flowers/);
    const state = torch.load(output);
    expect(Object.keys(state).sort()).toEqual(["hidden.bias", "hidden.weight", "norm.bias", "norm.weight", "out.bias", "out.weight"]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
