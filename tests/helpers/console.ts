/** Runs `fn` with console.log captured; returns what it printed (examples print their results). */
export function captured<T>(fn: () => T): { result: T; output: string } {
  const lines: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
  try {
    return { result: fn(), output: lines.join("\n") };
  } finally {
    spy.mockRestore();
  }
}
