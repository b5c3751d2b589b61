import { defineConfig } from "vitest/config";

// End-to-end tests run inside `firebase emulators:exec` (npm run test:e2e): real Functions, Firestore,
// Auth and Tasks emulators, signed HTTP deliveries to the deployed-shaped functions.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    environment: "node",
    // Structured logs only for failing tests.
    silent: "passed-only",
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 90_000,
  },
});
