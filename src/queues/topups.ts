/**
 * Consumers of `voucher-topups` and its dead-letter queue `voucher-topups-dlq`.
 *
 * Each message ({order_id, channel_id}) is one top-up order. The ChannelAccount decides what to do
 * (topupBegin: first attempt submits and commits the money, later ones query first), the adapter
 * talks to the provider outside any Durable Object, and the ChannelAccount records the outcome
 * (topupFinish, idempotent). Transient answers are retried with backoff via message.retry; after
 * max_retries the queue dead-letters the message and the DLQ pass asks the provider one last
 * time, then ends the order as failed (refunded) unless the provider says it succeeded.
 */
import { type Outcome, retryDelaySeconds } from "../domain/topup";
import { channelAccount } from "../objects/channel-account";
import type { Begin, TopupMessage } from "../objects/channel-topup";
import { type ProviderConfig, providerConfig, queryTopup, retryScale, submitTopup } from "../providers/topup-provider";

const validMessage = (b: unknown): b is TopupMessage =>
  !!b &&
  typeof b === "object" &&
  /^ord_[a-z0-9]{1,40}$/.test(String((b as TopupMessage).order_id)) &&
  /^chn_[a-z0-9]{1,40}$/.test(String((b as TopupMessage).channel_id));

const log = (at: string, order_id: string, detail: Record<string, unknown>) =>
  console.log(JSON.stringify({ level: "info", at, order_id, ...detail }));

/** Talks to the provider for one step; never throws (a bug in the adapter counts as a transient error). */
async function callProvider(cfg: ProviderConfig, step: Extract<Begin, { done: false }>): Promise<Outcome> {
  try {
    if (step.mode === "submit") return await submitTopup(cfg, step.request);
    const status = await queryTopup(cfg, step.request.out_trade_no);
    // The provider never received it (e.g. we crashed before submitting): submitting is safe, it dedupes anyway.
    return status.kind === "unknown" ? await submitTopup(cfg, step.request) : status;
  } catch (err) {
    return { kind: "retry", error: err instanceof Error ? err.message.slice(0, 100) : "adapter error" };
  }
}

async function attempt(message: Message<unknown>, env: Env): Promise<void> {
  if (!validMessage(message.body)) return message.ack(); // nothing to do with garbage; never loop on it
  const { order_id, channel_id } = message.body;
  const delaySeconds = retryDelaySeconds(message.attempts, retryScale(env));
  const config = providerConfig(env);
  const account = channelAccount(env, channel_id);
  if (!config.ok) {
    // Not dispatched, not charged: wait for the operator to configure the provider.
    log("topups", order_id, { problem: `misconfigured: ${config.missing}` });
    return message.retry({ delaySeconds });
  }
  const step = await account.topupBegin(order_id);
  if (step.done) return message.ack();
  const outcome = await callProvider(config.config, step);
  if (outcome.kind === "succeeded" || outcome.kind === "failed") {
    await account.topupFinish(order_id, outcome);
    return message.ack();
  }
  const error = outcome.kind === "retry" ? outcome.error : "provider lost the top-up";
  await account.topupNote(order_id, error);
  log("topups", order_id, { attempt: step.attempts, retry_in_s: delaySeconds, error });
  message.retry({ delaySeconds });
}

/** The last pass after every retry was used: one more status query, then a final answer. */
async function lastChance(message: Message<unknown>, env: Env): Promise<void> {
  if (!validMessage(message.body)) return message.ack();
  const { order_id, channel_id } = message.body;
  const account = channelAccount(env, channel_id);
  const step = await account.topupBegin(order_id, true);
  if (step.done) return message.ack();
  const config = providerConfig(env);
  let outcome: Outcome = { kind: "retry", error: "never sent to the provider" };
  if (step.mode === "query" && config.ok) {
    try {
      outcome = await queryTopup(config.config, step.request.out_trade_no);
    } catch {
      outcome = { kind: "retry", error: "status query failed" };
    }
  }
  if (outcome.kind !== "succeeded" && outcome.kind !== "failed") {
    const why = outcome.kind === "retry" ? outcome.error : "unknown at the provider";
    outcome = { kind: "failed", provider_ref: null, reason: `gave up after ${step.attempts} attempts (${why})` };
  }
  await account.topupFinish(order_id, outcome);
  log("topups-dlq", order_id, { outcome: outcome.kind });
  message.ack();
}

/** One message at a time per order, all orders of the batch in parallel; a throw retries only that message. */
export async function handleTopups(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const dlq = batch.queue.endsWith("-dlq");
  await Promise.all(
    batch.messages.map(async (m) => {
      try {
        await (dlq ? lastChance(m, env) : attempt(m, env));
      } catch (err) {
        console.error(
          JSON.stringify({
            level: "error",
            at: dlq ? "topups-dlq" : "topups",
            error: err instanceof Error ? err.message.slice(0, 200) : "unknown",
          }),
        );
        m.retry({ delaySeconds: retryDelaySeconds(m.attempts, retryScale(env)) });
      }
    }),
  );
}
