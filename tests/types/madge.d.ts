// The part of madge's API that tests/architecture.test.ts uses (the package ships no types).
declare module "madge" {
  interface MadgeResult {
    /** Each cycle as the list of files in it. */
    circular(): string[][];
    /** Each file and the files it imports, relative to the base directory. */
    obj(): Record<string, string[]>;
  }
  interface MadgeConfig {
    fileExtensions?: string[];
    tsConfig?: string;
    detectiveOptions?: Record<string, unknown>;
  }
  function madge(path: string, config?: MadgeConfig): Promise<MadgeResult>;
  export = madge;
}
