// The part of asciichart that torchlet's command line uses (the package ships no types).
declare module "asciichart" {
  export interface PlotConfig {
    min?: number;
    max?: number;
    offset?: number;
    padding?: string;
    height?: number;
    colors?: string[];
    symbols?: string[];
    format?: (x: number, i: number) => string;
  }
  export function plot(series: number[] | number[][], config?: PlotConfig): string;
  export const red: string;
  export const green: string;
  export const blue: string;
  export const yellow: string;
  export const cyan: string;
  export const reset: string;
}
