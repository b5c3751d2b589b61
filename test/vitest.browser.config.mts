import { defineConfig } from "vitest/config";

// Browser tests: real Chromium (Debian's /usr/bin/chromium, driven by playwright-core) against the ops console on
// the Hosting emulator, inside `firebase emulators:exec` (npm run test:browser). Screenshots go to test-results/.
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    environment: "node",
    silent: "passed-only",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
