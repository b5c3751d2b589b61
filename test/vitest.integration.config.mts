import { defineConfig } from "vitest/config";

// Integration tests run against the real Cloud Firestore emulator (started by globalSetup unless
// FIRESTORE_EMULATOR_HOST is already set). Files share one emulator, so they run one at a time.
export default defineConfig({
  test: {
    include: ["test/integration/**/*.test.ts", "test/rules/**/*.test.ts"],
    environment: "node",
    // Structured logs only for failing tests.
    silent: "passed-only",
    globalSetup: ["test/support/firestoreEmulatorSetup.ts"],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
