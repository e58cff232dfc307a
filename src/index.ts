/** Worker entry: HTTP through the Hono app, the events queue, and the cron. Exports the Durable Object classes. */
import { app } from "./app";
import type { DomainEvent } from "./objects/outbox";
import { handleEvents } from "./queues/events";

export { AbuseGuard } from "./objects/abuse-guard";
export { ChannelAccount } from "./objects/channel-account";
export { SkuPool } from "./objects/sku-pool";

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  async queue(batch, env, _ctx) {
    if (batch.queue.startsWith("voucher-events")) await handleEvents(batch as MessageBatch<DomainEvent>, env);
  },
  async scheduled(_controller, env, _ctx) {
    // Housekeeping: failed-attempt records are kept 90 days, processed event ids 30 days, audit entries 400 days.
    const now = Date.now();
    await env.DB.batch([
      env.DB.prepare("DELETE FROM redemption_attempts WHERE created_at < ?1").bind(now - 90 * 86_400_000),
      env.DB.prepare("DELETE FROM processed_events WHERE processed_at < ?1").bind(now - 30 * 86_400_000),
      env.DB.prepare("DELETE FROM audit_log WHERE at < ?1").bind(now - 400 * 86_400_000), // the audit log is kept 400 days
    ]);
  },
} satisfies ExportedHandler<Env, DomainEvent>;
