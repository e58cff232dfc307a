/** Worker entry: HTTP through the Hono app, the events queue, and the cron. Exports the Durable Object classes. */
import { app } from "./app";
import { pruneExports } from "./db/exports";
import { pruneExpired } from "./db/housekeeping";
import { previousDay } from "./domain/reconciliation";
import { sweepReservations } from "./lib/campaign-claim";
import { RECONCILIATION_CRON, runReconciliation } from "./lib/reconciliation";
import type { DomainEvent } from "./objects/outbox";
import { type GrantMessage, handleCampaignGrants } from "./queues/campaign-grants";
import { handleEvents } from "./queues/events";
import { type ExportMessage, handleExports } from "./queues/exports";
import { handleTopups } from "./queues/topups";
import { webhookHousekeeping } from "./queues/webhook-fanout";
import { handleWebhookDeadLetters, handleWebhookDeliveries } from "./queues/webhooks";

export { AbuseGuard } from "./objects/abuse-guard";
export { Campaign } from "./objects/campaign";
export { ChannelAccount } from "./objects/channel-account";
export { LiveHub } from "./objects/live-hub";
export { SkuPool } from "./objects/sku-pool";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env, _ctx) {
    if (batch.queue.startsWith("voucher-events")) await handleEvents(batch as MessageBatch<DomainEvent>, env);
    else if (batch.queue === "voucher-topups" || batch.queue === "voucher-topups-dlq") await handleTopups(batch, env);
    else if (batch.queue === "voucher-webhooks") await handleWebhookDeliveries(batch as MessageBatch<never>, env);
    else if (batch.queue === "voucher-webhooks-dlq") await handleWebhookDeadLetters(batch as MessageBatch<never>, env);
    else if (batch.queue === "voucher-campaigns")
      await handleCampaignGrants(batch as unknown as MessageBatch<GrantMessage>, env);
    else if (batch.queue === "voucher-exports")
      await handleExports(batch as unknown as MessageBatch<ExportMessage>, env);
  },
  async scheduled(controller, env, _ctx) {
    if (controller.cron === RECONCILIATION_CRON) {
      await runReconciliation(env, previousDay(controller.scheduledTime), "cron");
      return;
    }
    // Housekeeping: failed-attempt records and the event log are kept 90 days, processed event ids 30 days, audit entries 400 days.
    const now = Date.now();
    await pruneExpired(env.DB, {
      redemptionAttempts: now - 90 * 86_400_000,
      processedEvents: now - 30 * 86_400_000,
      audit: now - 400 * 86_400_000, // the audit log is kept 400 days
      eventLog: now - 90 * 86_400_000,
    });
    await pruneExports(env.DB, now); // export files are kept 24 h
    await webhookHousekeeping(env, now); // re-enqueue stuck webhook deliveries; the delivery log is kept 30 days
    await sweepReservations(env, now); // campaign claims a dead Worker left reserved: finished or given back
  },
} satisfies ExportedHandler<Env, DomainEvent>;
