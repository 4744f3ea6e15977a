/**
 * torchlet in a real browser: Debian's Chromium, headless, driven by playwright-core (which
 * downloads nothing), over http on 127.0.0.1. A bundle of a script that imports "torchlet"
 * trains a logistic regression on the WebAssembly kernels, and the playground trains the text
 * classifier and shows its accuracy, loss curve, graph and predictions, with no console error.
 *
 * Chromium must be installed: .ci/run installs it in CI; on a developer's machine a missing one
 * fails these tests with the command that installs it, rather than skipping them.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import type { Server } from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as esbuild from "esbuild";
import { type Browser, type Page, chromium } from "playwright-core";
import { LOGISTIC_REGRESSION, type TrainingResult, expectTrained } from "./helpers/bundle-programs";

const root = path.join(__dirname, "..");
const { installEsmPackage } = require("../scripts/build-esm.js") as { installEsmPackage: (dir: string) => Promise<string> };
const { serve } = require("../scripts/serve.js") as { serve: (dir: string) => Promise<{ server: Server; url: string }> };

const CHROMIUM = process.env.TORCHLET_CHROMIUM ?? "/usr/bin/chromium";
/**
 * Headless, and nothing that reaches the network on its own: this machine's network is closed,
 * and background requests would only fail (playwright adds --no-sandbox and a fresh profile).
 */
const CHROMIUM_ARGS = [
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let scratch: string;
let server: Server | undefined;
let baseUrl: string;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `The browser tests need Chromium at ${CHROMIUM}, and it is not there. Install it with ` +
        "`sudo apt-get install -y chromium` (Debian and Ubuntu; .ci/run does this in CI), or set TORCHLET_CHROMIUM " +
        "to a Chromium or Chrome binary.",
    );
  }
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "torchlet-browser-"));
  const site = path.join(scratch, "site");

  // The logistic regression: bundled from a scratch install, as a consumer's bundler would.
  await installEsmPackage(scratch);
  fs.mkdirSync(path.join(site, "logistic"), { recursive: true });
  await esbuild.build({
    stdin: { contents: LOGISTIC_REGRESSION, resolveDir: scratch, sourcefile: "logistic.js" },
    bundle: true,
    platform: "browser",
    format: "esm",
    outfile: path.join(site, "logistic", "bundle.js"),
    logLevel: "silent",
  });
  fs.writeFileSync(
    path.join(site, "logistic", "index.html"),
    '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="./bundle.js"></script></body></html>\n',
  );

  // The playground, as `npm run build:playground` builds it (Vite runs in its own process: it is an ES module).
  execFileSync(process.execPath, [path.join(root, "scripts", "build-playground.js"), path.join(site, "playground")], { stdio: "pipe" });

  ({ server, url: baseUrl } = await serve(site));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

/** A new page that records every console error and uncaught exception, of the page and of its workers. */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1100, height: 1600 } });
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
  page.on("worker", (worker) =>
    worker.on("console", (m) => {
      if (m.type() === "error") errors.push(`worker console: ${m.text()}`);
    }),
  );
  return { page, errors };
}

test("a bundle of a script that imports torchlet trains a logistic regression on the WebAssembly kernels", async () => {
  const { page, errors } = await openPage();
  await page.goto(`${baseUrl}logistic/`);
  const result = await page.evaluate(() => (globalThis as unknown as { torchletResult: Promise<TrainingResult> }).torchletResult);
  expectTrained(result);
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);

test("the playground trains in a worker and shows the accuracy, the loss curve, the graph and predictions", async () => {
  const { page, errors } = await openPage();
  await page.goto(`${baseUrl}playground/`);
  await page.click("#train");

  const accuracy = page.locator("#accuracy");
  await accuracy.filter({ hasText: /^test accuracy / }).waitFor({ timeout: 60_000 });
  const text = await accuracy.textContent();
  expect(text).toMatch(/^test accuracy 0\.\d\d$/);
  expect(Number(text!.split(" ").pop())).toBeGreaterThan(0.85);
  expect(await page.textContent("#backend")).toBe("kernels: WebAssembly SIMD");

  // The loss curve: a point per batch (1,200 mails, 80% of them in batches of 32, 10 epochs) and one per epoch.
  // (Page functions are strings here: the tests' tsconfig has no DOM types.)
  await page.waitForFunction('Number(document.querySelector("#loss-chart").dataset.points) >= 300');

  // The graph of one step, named as PyTorch names its nodes; a click on a leaf shows its gradient.
  await page.locator("#graph svg").waitFor({ timeout: 30_000 });
  const labels = await page.locator("#graph svg g.node text").allTextContents();
  for (const name of [
    "NllLossBackward0",
    "LogSoftmaxBackward0",
    "AddmmBackward0",
    "EmbeddingBagBackward0",
    "AccumulateGrad",
    "embedding.weight",
  ]) {
    expect(labels).toContain(name);
  }
  await page.locator("#graph g.node.leaf", { hasText: "output.weight" }).click();
  await expect(page.textContent("#leaf-grad")).resolves.toMatch(/^output\.weight\.grad {2}shape \(2, 10\)/);

  // Predictions as the user types.
  await page.locator("#message").pressSequentially("FREE money! Click here to claim your prize now", { delay: 5 });
  await page.waitForFunction('document.querySelectorAll("#prediction .row").length === 2');
  const rows = await page.locator("#prediction .row").allTextContents();
  expect(rows[0]).toMatch(/^spam[01]\.\d{3}$/);
  expect(rows.map((r) => r.replace(/[\d.]+$/, "")).sort()).toEqual(["ham", "spam"]);

  expect(errors).toEqual([]);
  await page.close();
}, 120_000);

test("the playground trains on pasted __label__ lines, and names a line without a label", async () => {
  const { page, errors } = await openPage();
  await page.goto(`${baseUrl}playground/`);
  const topics: Array<[string, string[]]> = [
    ["sports", ["the match went to extra time", "a late goal won the cup final", "the team signed a new striker"]],
    ["politics", ["parliament votes on the budget", "the minister resigned after the vote", "a new law passed the senate"]],
    ["weather", ["heavy rain and wind tonight", "sunny skies and warm afternoon", "snow is expected in the hills"]],
  ];
  const lines = topics.flatMap(([label, texts]) => [...texts, ...texts].map((t, i) => `__label__${label} ${t} ${i}`));
  await page.fill("#pasted", [...lines, "this line has no label"].join("\n"));
  await page.click("#train");
  await expect(page.locator("#status.error").textContent()).resolves.toBe('no __label__ on line 19: each line is "__label__NAME text"');

  await page.fill("#pasted", lines.join("\n"));
  await page.fill("#lr", "2");
  await page.click("#train");
  await page.locator("#accuracy", { hasText: /^test accuracy / }).waitFor({ timeout: 30_000 });
  await page.locator("#message").pressSequentially("rain tonight");
  await page.waitForFunction('document.querySelectorAll("#prediction .row").length === 3');
  expect(errors).toEqual([]);
  await page.close();
}, 60_000);
