/** One contract for every NotifyPort: the Slack adapter (local Slack stand-in) and the in-memory fake. */
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../functions/src/domain/errors";
import type { NotifyPort } from "../../functions/src/sinks/ports";

export interface NotifySubject {
  notify: NotifyPort;
  messages(): string[];
  close(): Promise<void>;
}

export function notifyContract(name: string, make: () => Promise<NotifySubject>): void {
  describe(`NotifyPort contract: ${name}`, () => {
    it("posts the text once per call", async () => {
      const s = await make();
      await s.notify.post({ key: "ticket:req_1", text: "New ticket 42" });
      expect(s.messages()).toEqual(["New ticket 42"]);
      await s.close();
    });
    it("refuses an empty message permanently", async () => {
      const s = await make();
      await expect(s.notify.post({ key: "k", text: "  " })).rejects.toBeInstanceOf(PermanentError);
      expect(s.messages()).toEqual([]);
      await s.close();
    });
  });
}
