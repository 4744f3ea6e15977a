/** What a strict, runtime-neutral TypeScript project compiles with: no Node types, no DOM. */
export const consumerOptions = {
  strict: true,
  types: [],
  lib: ["ES2022"],
  skipLibCheck: false,
  target: "ES2022",
  module: "node16",
  moduleResolution: "node16",
  noEmit: true,
};
