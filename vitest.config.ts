import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // Pure code with no servers or shared state: one module graph per worker, so the knowledge
          // base and the Slack SDK's types load once per thread instead of once per file.
          pool: "threads",
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Every file isolates itself with its own Redis key prefix and ports, so files can run in
          // parallel; each in its own process because they start servers and child processes.
          pool: "forks",
        },
      },
    ],
  },
});
