/**
 * The page: sends the form to the training worker and shows what comes back (loss curve,
 * accuracy, predictions as the user types, the graph of one step).
 */
import { LossChart } from "./loss-chart";
import { showGraph } from "./graph-view";
import type { FromWorker, ToWorker } from "./messages";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
const send = (message: ToWorker) => worker.postMessage(message);

const chart = new LossChart($<HTMLCanvasElement>("loss-chart"));
const trainButton = $<HTMLButtonElement>("train");
const status = $("status");
const messageBox = $<HTMLTextAreaElement>("message");

function setStatus(text: string, isError = false): void {
  status.textContent = text;
  status.classList.toggle("error", isError);
}

trainButton.addEventListener("click", () => {
  const source = (document.querySelector<HTMLInputElement>('input[name="source"]:checked')?.value ?? "sample") as "sample" | "pasted";
  trainButton.disabled = true;
  chart.clear();
  $("accuracy").textContent = "";
  $("accuracy-detail").textContent = "";
  $("graph").replaceChildren();
  $("leaf-grad").textContent = "";
  setStatus("training…");
  send({
    type: "train",
    source,
    text: $<HTMLTextAreaElement>("pasted").value,
    epochs: Number($<HTMLInputElement>("epochs").value),
    lr: Number($<HTMLInputElement>("lr").value),
    seed: Number($<HTMLInputElement>("seed").value),
  });
});

// Pasting text picks "my own examples".
$<HTMLTextAreaElement>("pasted").addEventListener("input", () => {
  document.querySelector<HTMLInputElement>('input[name="source"][value="pasted"]')!.checked = true;
});

let latestPrediction = 0;
messageBox.addEventListener("input", () => send({ type: "predict", id: ++latestPrediction, text: messageBox.value }));

function showPrediction(scores: Array<{ label: string; probability: number }>): void {
  const rows = scores.map(({ label, probability }) => {
    const row = document.createElement("div");
    row.className = "row";
    const name = document.createElement("span");
    name.textContent = label;
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.style.width = `${(probability * 100).toFixed(1)}%`;
    const value = document.createElement("span");
    value.textContent = probability.toFixed(3);
    row.append(name, bar, value);
    return row;
  });
  $("prediction").replaceChildren(...rows);
}

// A worker that cannot start (a script that fails to load) says so beside the form too.
worker.onerror = (event) => {
  setStatus(`the training worker failed: ${event.message}`, true);
  trainButton.disabled = false;
};

worker.onmessage = (event: MessageEvent<FromWorker>) => {
  const m = event.data;
  switch (m.type) {
    case "backend":
      $("backend").textContent = `kernels: ${m.wasm ? "WebAssembly SIMD" : "TypeScript (this browser has no WebAssembly SIMD)"}`;
      break;
    case "data":
      setStatus(`training on ${m.train} examples (${m.test} held out), labels ${m.labels.join(", ")}: ${m.task}`);
      break;
    case "progress":
      chart.addBatch(m.step, m.loss);
      break;
    case "epoch":
      chart.addEpoch(m.step, m.loss);
      setStatus(`epoch ${m.epoch}/${m.epochs}: loss ${m.loss.toFixed(4)}, train accuracy ${m.accuracy.toFixed(3)}`);
      break;
    case "done":
      $("accuracy").textContent = `test accuracy ${m.accuracy.toFixed(2)}`;
      $("accuracy-detail").textContent = `${m.correct} of ${m.total} held-out examples right; trained in ${m.seconds.toFixed(2)} s`;
      trainButton.disabled = false;
      messageBox.disabled = false;
      if (messageBox.value) send({ type: "predict", id: ++latestPrediction, text: messageBox.value });
      break;
    case "graph":
      showGraph($("graph"), $("leaf-grad"), m.dot, m.leaves).catch((err: Error) =>
        setStatus(`cannot draw the graph: ${err.message}`, true),
      );
      break;
    case "prediction":
      if (m.id === latestPrediction) showPrediction(m.scores);
      break;
    case "error":
      setStatus(m.message, true);
      trainButton.disabled = false;
      break;
  }
};
