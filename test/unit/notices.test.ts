import { describe, expect, it } from "vitest";
import {
  DEFAULT_NOTICE_SETTINGS,
  alertNoticeText,
  ticketNoticeText,
  type NoticePersonalData,
  type NoticeSettings,
} from "../../functions/src/domain/notices";

const CONSOLE = "https://console.firebase.google.com/project/my-app/firestore/databases/-default-/data/";
const settings = (personalData: NoticePersonalData): NoticeSettings => ({ personalData, consoleDataUrl: CONSOLE });
const ADA = { uid: "u1", name: "Ada Lovelace", email: "ada@example.com", plan: "pro" };
const renewal = { priority: "high", ticketId: "42", helpdesk: "hubspot", subject: "Renewal payment failed (pro)", customer: ADA };
const LINK = `<${CONSOLE}~2Fcustomers~2Fu1|customers/u1>`;

describe("Slack notices and NOTICE_PERSONAL_DATA", () => {
  it("none (the default): the uid and a console link, no name, no email", () => {
    expect(DEFAULT_NOTICE_SETTINGS.personalData).toBe("none");
    const text = ticketNoticeText(renewal, settings("none"));
    expect(text).toBe(`:ticket: New high-priority ticket 42 in hubspot: Renewal payment failed (pro) — customer u1 ${LINK}, plan pro`);
    expect(text).not.toContain("Ada");
    expect(text).not.toContain("@");
  });

  it("name: also the customer's name, never the email", () => {
    const text = ticketNoticeText(renewal, settings("name"));
    expect(text).toContain(`— Ada Lovelace, customer u1 ${LINK}, plan pro`);
    expect(text).not.toContain("ada@example.com");
  });

  it("email: the name and the email", () => {
    expect(ticketNoticeText(renewal, settings("email"))).toContain(`— Ada Lovelace (ada@example.com), customer u1 ${LINK}, plan pro`);
  });

  it("without a console URL the notice names the document path", () => {
    expect(ticketNoticeText(renewal, DEFAULT_NOTICE_SETTINGS)).toContain("— customer u1 customers/u1, plan pro");
  });

  it("a subject the customer typed is never posted, at any setting; names cannot add Slack markup", () => {
    for (const level of ["none", "name", "email"] as const) {
      const text = ticketNoticeText(
        { ...renewal, subject: null, category: "billing", customer: { ...ADA, name: "<!channel> Ada" } },
        settings(level),
      );
      expect(text).toContain("in-app support request (billing)");
      expect(text).not.toContain("<!channel>");
    }
  });

  it("alerts: an email inside an error message is scrubbed unless emails are allowed; the alert is linked", () => {
    const alert = { jobId: "evt_1.crm.contact.upsert.u1", kind: "crm.contact.upsert", reason: "max_attempts", attempts: 5, errorMessage: "409 for ada@example.com" };
    for (const level of ["none", "name"] as const) {
      const text = alertNoticeText(alert, settings(level));
      expect(text).toContain("409 for <email>");
      expect(text).toContain("gave up on crm.contact.upsert (max attempts) after 5 attempt(s)");
      expect(text).toContain(`<${CONSOLE}~2Falerts~2Fevt_1.crm.contact.upsert.u1|alerts/evt_1.crm.contact.upsert.u1>`);
    }
    expect(alertNoticeText(alert, settings("email"))).toContain("409 for ada@example.com");
  });
});
