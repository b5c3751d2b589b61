/**
 * Bench-only functions: a codebase of their own (`bench`), listed only in the firebase config that
 * `npm run bench` generates (scripts/bench/firebaseConfig.ts), never in firebase.json. So `firebase deploy` (which
 * deploys every codebase in firebase.json) cannot see them. A conditional export in functions/src/index.ts would
 * not be as safe: firebase-functions' loader (runtime/loader.js, extractStack) skips an `undefined` export, so the
 * function exists exactly when the condition held in the process that ran discovery — at deploy time that is the
 * deployer's shell and .env files, one stray variable away from production.
 *
 * Belt and braces: loading this module anywhere but the functions emulator on a demo project throws, so even a
 * `firebase deploy --config <the generated file>` fails at discovery instead of deploying.
 */
const project = process.env.GCLOUD_PROJECT ?? "";
if (process.env.FUNCTIONS_EMULATOR !== "true" || !project.startsWith("demo-")) {
  throw new Error(`opsync bench functions run only in the functions emulator on a demo- project (got project "${project}")`);
}

export { benchAckFloor, benchAckFloorTriggered, benchFloorTriggeredRecorded } from "./floor.js";
export { benchExtensionWebhook } from "./extensionReplica.js";
