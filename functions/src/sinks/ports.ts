/**
 * Ports for the outside systems the sync queue drives. Adapters (HubSpot, helpdesk, Auth claims) implement
 * these; the queue and its tests depend only on the interfaces.
 */
export interface CrmPort {
  upsertContact(input: { uid: string; email: string | null; properties: Record<string, string> }): Promise<{ contactId: string }>;
}

export interface HelpdeskPort {
  createTicket(input: { requestId: string; subject: string; body: string; tags: string[] }): Promise<{ ticketId: string }>;
}
