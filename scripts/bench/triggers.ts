/**
 * Background triggers (every Firestore and Auth trigger: onStripeEventRecorded, onSyncJobWritten, ...) switched
 * through the emulator hub. Off during the ack rounds so the ledger trigger's apply work and the sync queue do not
 * compete with the acks being timed; HTTP and task-queue functions are not affected. Ledger entries written meanwhile
 * stay `received` and their jobs are never written (no sweeper runs on the emulators: no Pub/Sub emulator).
 */
export async function setBackgroundTriggers(enabled: boolean): Promise<void> {
  const hub = process.env.FIREBASE_EMULATOR_HUB ?? "127.0.0.1:4400";
  const res = await fetch(`http://${hub}/functions/${enabled ? "enable" : "disable"}BackgroundTriggers`, {
    method: "PUT",
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`emulator hub: ${enabled ? "enabling" : "disabling"} background triggers answered ${res.status}: ${text.slice(0, 200)}`);
}
