/**
 * Finds a Cloud Firestore emulator jar without downloading anything: an explicit path, the jar firebase-tools
 * cached on a machine with internet, or the gcloud component (google-cloud-cli-firestore-emulator).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

export interface FoundJar {
  path: string;
  /** firebase-tools' own jars have a Main-Class; the gcloud component does not. */
  runnable: boolean;
}

const GCLOUD_JAR_CANDIDATES = [
  "/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
  "/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
  "/opt/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar",
];

export const FIRESTORE_MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore";

export function findFirestoreJar(): FoundJar | null {
  const explicit = process.env.OPSYNC_FIRESTORE_JAR;
  if (explicit) {
    if (!existsSync(explicit)) throw new Error(`OPSYNC_FIRESTORE_JAR points at ${explicit}, which does not exist`);
    return { path: explicit, runnable: false };
  }
  const cacheDir = join(homedir(), ".cache", "firebase", "emulators");
  if (existsSync(cacheDir)) {
    const cached = readdirSync(cacheDir)
      .filter((f) => /^cloud-firestore-emulator-v[\d.]+\.jar$/.test(f))
      .sort()
      .pop();
    if (cached) return { path: join(cacheDir, cached), runnable: true };
  }
  for (const candidate of GCLOUD_JAR_CANDIDATES) if (existsSync(candidate)) return { path: candidate, runnable: false };
  try {
    const listed = execFileSync("dpkg", ["-L", "google-cloud-cli-firestore-emulator"], { encoding: "utf8" })
      .split("\n")
      .find((line) => line.endsWith("cloud-firestore-emulator.jar"));
    if (listed && existsSync(listed)) return { path: listed, runnable: false };
  } catch {
    // dpkg missing or package not installed: fall through to the error below.
  }
  return null;
}

export function requireFirestoreJar(): FoundJar {
  const jar = findFirestoreJar();
  if (!jar) {
    throw new Error(
      "No Cloud Firestore emulator jar found. Install the gcloud component (apt-get install google-cloud-cli-firestore-emulator), " +
        "run `firebase setup:emulators:firestore` once on a machine with internet, or set OPSYNC_FIRESTORE_JAR.",
    );
  }
  return jar;
}

/**
 * firebase-tools runs `java -jar <FIRESTORE_EMULATOR_BINARY_PATH>`, which needs a Main-Class. For the gcloud
 * jar we write a tiny wrapper jar whose manifest names the main class and puts the real jar on the class path.
 */
export function firebaseToolsJarPath(repoRoot: string): string | null {
  const jar = requireFirestoreJar();
  if (jar.runnable) return null;
  const dir = resolve(repoRoot, ".emulator");
  mkdirSync(dir, { recursive: true });
  const wrapper = join(dir, "cloud-firestore-emulator-wrapper.jar");
  const manifest = join(dir, "MANIFEST.MF");
  writeFileSync(manifest, `Manifest-Version: 1.0\nMain-Class: ${FIRESTORE_MAIN_CLASS}\nClass-Path: file:${jar.path}\n`);
  if (!existsSync(wrapper)) {
    execFileSync("jar", ["--create", "--file", wrapper, "--manifest", manifest], { stdio: "inherit" });
  }
  return wrapper;
}
