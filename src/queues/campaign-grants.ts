/**
 * Consumer of the `voucher-campaigns` queue: a partner's `customer.registered` (POST /v1/events) becomes one
 * claim in every active campaign of the partner's subtree that grants on it. Each claim's Idempotency-Key is
 * derived from the event id, so a redelivered or duplicated message grants nothing twice; refusals (budget
 * spent, already claimed, window closed, no code left) are final and acknowledged; anything else is retried,
 * then dead-lettered.
 */
import { autoGrantCampaigns } from "../db/campaigns";
import { claimCode } from "../lib/campaign-claim";

export interface GrantMessage {
  event_id: string;
  /** The posting channel's path: campaigns of its subtree grant. */
  path: string;
  customer_ref: string;
}

export async function handleCampaignGrants(batch: MessageBatch<GrantMessage>, env: Env): Promise<void> {
  for (const message of batch.messages) {
    const m = message.body;
    try {
      for (const campaign of await autoGrantCampaigns(env.DB, m.path, "customer.registered", Date.now())) {
        const outcome = await claimCode(env, campaign, m.customer_ref, `auto:${m.event_id}`);
        if (!outcome.ok && outcome.reason === "not_issued") throw new Error(`claim not issued (${campaign.id})`);
      }
      message.ack();
    } catch (err) {
      console.error(
        JSON.stringify({
          level: "error",
          at: "campaign-grants",
          event_id: m?.event_id,
          error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
        }),
      );
      message.retry({ delaySeconds: Math.min(300, 2 ** message.attempts) });
    }
  }
}
