import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Every file isolates itself with its own Redis key prefix and ports, so files can run in parallel.
    pool: "forks",
  },
});
