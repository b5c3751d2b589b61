// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

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
    // The domain is pure: no Firestore, no Functions runtime, no network, no environment.
    files: ["functions/src/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: ["firebase-admin*", "firebase-functions*", "node:*", "stripe", "@hubspot/*", "../store/*", "../sinks/*", "../triggers/*", "../config*"] },
      ],
      "no-restricted-globals": ["error", "process", "fetch"],
    },
  },
);
