/** The shared HelpdeskPort contract, run against the Zendesk adapter and the local Zendesk server. */
import { CRM_CONTACT_TAG_PREFIX, ZendeskHelpdesk } from "../../functions/src/sinks/zendesk";
import { helpdeskContract, type HelpdeskSubject } from "../contract/helpdesk.contract";
import { startZendeskServer } from "../vendors/zendeskServer";

async function zendeskSubject(): Promise<HelpdeskSubject> {
  const server = await startZendeskServer();
  let n = 500;
  return {
    helpdesk: new ZendeskHelpdesk({ baseUrl: server.url, email: server.email, apiToken: server.token, timeoutMs: 2000 }),
    // opsync passes the CRM (HubSpot) contact id; Zendesk records it as a `crm_contact_<id>` tag.
    makeContact: async () => String(++n),
    tickets: async () =>
      server.tickets().map((t) => ({
        id: String(t.id),
        requestId: t.external_id ?? "",
        subject: t.subject,
        priority: t.priority ?? "",
        tags: t.tags.filter((tag) => !tag.startsWith(CRM_CONTACT_TAG_PREFIX)),
        contactIds: t.tags.filter((tag) => tag.startsWith(CRM_CONTACT_TAG_PREFIX)).map((tag) => tag.slice(CRM_CONTACT_TAG_PREFIX.length)),
      })),
    vendorPriority: (p) => p,
    close: () => server.close(),
  };
}

helpdeskContract("zendesk + local Zendesk server", zendeskSubject);
