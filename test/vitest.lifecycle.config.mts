import { defineConfig } from "vitest/config";

// The local loop a newcomer meets first: `npm start` as a child process (fixed ports, so after every other tier
// has released them), the port-in-use sentence of `npm test`, and a Ctrl-C that leaves nothing behind. Needs
// `npm run build` first (npm test runs it in the e2e step).
export default defineConfig({
  test: {
    include: ["test/lifecycle/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 420_000,
    hookTimeout: 60_000,
  },
});
