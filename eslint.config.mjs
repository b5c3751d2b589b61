// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

// The layer rule (docs/architecture.md): triggers → services → domain + store + sinks; config/ is read by triggers
// and services only; production code never imports tests, fakes or scripts. Each layer lists what it must not
// import, and a wrong arrow fails `npm run lint` (test/unit/architecture.test.ts proves it does).
const NO_TESTS = { regex: "(^|/)(test|scripts)/", message: "functions/src never imports tests, fakes or scripts." };
const forbid = (...patterns) => ["error", { patterns: [...patterns, NO_TESTS] }];
// Any module of config/ (config/index.js, config/sync.js, …) and the old single-file spelling config.js.
const CONFIG = /** @type {const} */ ("(^|/)config(\\.js|/[^/]*)?$");

export default tseslint.config(
  { ignores: ["**/node_modules/**", "functions/lib/**", "scripts/bench/functions/lib/**", ".emulator/**", "coverage/**", "console/dist/**", "test-results/**"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/ban-ts-comment": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    files: ["functions/src/**/*.ts"],
    rules: { "no-console": "error" },
  },
  {
    // The domain is pure: no Firestore, no Functions runtime, no network, no environment, no logs.
    files: ["functions/src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        { group: ["firebase-admin*", "firebase-functions*", "node:*", "stripe", "@hubspot/*"], message: "domain/ is pure: no SDKs, no I/O." },
        { regex: "(^|/)(store|sinks|services|triggers)/", message: "domain/ imports nothing but domain/ (layer rule)." },
        { regex: CONFIG, message: "domain/ reads no configuration (layer rule)." },
        { regex: "(^|/)log(\\.js)?$", message: "domain/ writes no logs (layer rule)." },
      ),
      "no-restricted-globals": ["error", "process", "fetch"],
    },
  },
  {
    // Repositories: transactions and queries over the domain's types. They decide nothing and call no vendor.
    files: ["functions/src/store/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        { group: ["firebase-functions*", "stripe", "@hubspot/*"], message: "store/ talks to Firestore only." },
        { regex: "(^|/)(sinks|services|triggers)/", message: "store/ may import domain/ and store/ only (layer rule)." },
        { regex: CONFIG, message: "config/ is read by triggers/ and services/ only; pass values in (layer rule)." },
      ),
    },
  },
  {
    // Adapters behind the ports of sinks/ports.ts: they know their vendor, not opsync's storage or use cases.
    files: ["functions/src/sinks/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        { group: ["firebase-functions*", "firebase-admin/firestore"], message: "sinks/ never touch Firestore or the Functions runtime." },
        { regex: "(^|/)(store|services|triggers)/", message: "sinks/ may import domain/ and sinks/ only (layer rule)." },
        { regex: CONFIG, message: "config/ is read by triggers/ and services/ only (layer rule).", allowTypeImports: true },
      ),
    },
  },
  {
    // Use cases: the only layer that orchestrates. Nothing below imports it; it never imports an entry point.
    files: ["functions/src/services/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid({ regex: "(^|/)triggers/", message: "services/ never import triggers/ (layer rule)." }),
    },
  },
  {
    // Entry points: parse, call one service, respond. They name the documents they listen to (store/paths.ts).
    files: ["functions/src/triggers/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        { regex: "(^|/)sinks/", message: "triggers/ reach adapters through services/ (layer rule)." },
        { regex: "(^|/)store/(?!paths(\\.js)?$)", message: "triggers/ call services/, not store/ (layer rule); store/paths.ts is the one exception." },
      ),
    },
  },
  {
    // Params, secrets and the environment, validated into plain values; built on the domain's types only.
    files: ["functions/src/config/**/*.ts"],
    rules: {
      "no-restricted-imports": forbid(
        { group: ["firebase-admin*", "stripe", "@hubspot/*"], message: "config/ reads settings; it calls no SDK." },
        { regex: "(^|/)(store|sinks|services|triggers)/", message: "config/ may import domain/ and config/ only (layer rule)." },
      ),
    },
  },
  {
    files: ["functions/src/*.ts"],
    rules: { "no-restricted-imports": forbid() },
  },
);
