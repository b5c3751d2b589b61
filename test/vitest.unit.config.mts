import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
    // Structured logs only for failing tests.
    silent: "passed-only",
  },
});
