import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  // Examples and tests import the package by name, as a user would.
  moduleNameMapper: { "^torchlet$": "<rootDir>/src/index.ts" },
  testTimeout: 120_000,
};

export default config;
