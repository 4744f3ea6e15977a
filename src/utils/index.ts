/** `torch.utils`: helpers around the library, such as drawing the autograd graph. */
export { toDot, gradGraph } from "./to-dot";
export type { ToDotOptions, GradGraph, GradGraphNode } from "./to-dot";
