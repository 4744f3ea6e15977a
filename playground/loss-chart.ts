/**
 * The live loss curve: each batch's loss as it trains, and each epoch's mean. Chart.js, with only
 * the parts a line chart needs registered (the rest is left out of the bundle).
 */
import { Chart, Legend, LineController, LineElement, LinearScale, PointElement, Tooltip } from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip);

type Point = { x: number; y: number };

export class LossChart {
  private readonly chart: Chart<"line", Point[]>;
  private pending = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    this.chart = new Chart(canvas, {
      type: "line",
      data: {
        datasets: [
          { label: "batch loss", data: [], borderColor: "#9bb6e6", borderWidth: 1, pointRadius: 0 },
          { label: "epoch mean", data: [], borderColor: "#b3261e", borderWidth: 2, pointRadius: 3 },
        ],
      },
      options: {
        // Redrawn up to once a frame as batches stream in; animating each redraw would lag behind.
        animation: false,
        maintainAspectRatio: false,
        parsing: false,
        scales: {
          x: { type: "linear", title: { display: true, text: "step (batch)" } },
          y: { type: "linear", title: { display: true, text: "loss" }, beginAtZero: true },
        },
      },
    });
  }

  clear(): void {
    for (const dataset of this.chart.data.datasets) dataset.data = [];
    this.redraw();
  }

  addBatch(step: number, loss: number): void {
    this.chart.data.datasets[0].data.push({ x: step, y: loss });
    this.redraw();
  }

  addEpoch(step: number, loss: number): void {
    this.chart.data.datasets[1].data.push({ x: step, y: loss });
    this.redraw();
  }

  /** Batches arrive faster than frames: one update per frame draws them all. */
  private redraw(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.chart.update();
      // How many points are drawn, for anyone checking the chart from outside (the browser tests).
      this.canvas.dataset.points = String(this.chart.data.datasets.reduce((n, d) => n + d.data.length, 0));
    });
  }
}
