/**
 * ChannelAccount: one per channel. Coordinates that channel's orders as a small saga
 * (reserve limits → issue every line in its SkuPool → fulfil, or return what was
 * issued and fail), keeps idempotency keys for 24 h and counts per-customer purchases
 * exactly. An alarm drives any order left half-way by a crash to its end.
 *
 * Storage (SQLite):
 *   meta         key/value: channel_id, outbox_seq
 *   idempotency  key → request_hash, order_id, created_at (kept ≥ 24 h)
 *   orders       id → status pending|fulfilled|failed, record JSON (lines, totals; never codes)
 *   purchases    (order_id, product_id, customer_ref, quantity, at): per-customer limits
 *   account, movements   balance, credit limit, reserved funds (see objects/channel-balance.ts)
 *   outbox       see objects/outbox.ts
 */
import { DurableObject } from "cloudflare:workers";
import { newId } from "../domain/ids";
import { checkCustomerLimit, windowStart } from "../domain/limits";
import { type OrderRecord, type OrderRefusal, orderTotal, type PlaceOrderInput, shardOrder } from "../domain/orders";
import { isTopupOrder, type TopupView } from "../domain/topup";
import type { VerifiedNotice } from "../gateways/types";
import * as funds from "./channel-balance";
import * as checkout from "./channel-checkout";
import * as refunds from "./channel-refund";
import * as topup from "./channel-topup";
import { flushOutbox, OUTBOX_SCHEMA, outboxPosition, pendingEvents, recordEvent } from "./outbox";
import { type IssuedCode, skuPool } from "./sku-pool";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, order_id TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, record TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS orders_pending ON orders (status, updated_at);
CREATE TABLE IF NOT EXISTS purchases (order_id TEXT NOT NULL, product_id TEXT NOT NULL, customer_ref TEXT NOT NULL, quantity INTEGER NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS purchases_customer ON purchases (customer_ref, product_id, at);
${OUTBOX_SCHEMA}
${funds.BALANCE_SCHEMA}
`;

const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** A pending order untouched this long is assumed abandoned by a crash and driven on by the alarm. */
const STALE_PENDING_MS = 30_000;

export type OrderResult =
  | { ok: true; order: OrderRecord; codes: Record<number, IssuedCode[]>; replayed: boolean }
  | ({ ok: false; order?: OrderRecord } & OrderRefusal);

export function channelAccount(env: Env, channelId: string): DurableObjectStub<ChannelAccount> {
  return env.CHANNEL_ACCOUNT.get(env.CHANNEL_ACCOUNT.idFromName(channelId));
}

export class ChannelAccount extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /** Requests racing on one idempotency key share one promise, so they get one answer. */
  private readonly inflight = new Map<string, Promise<OrderResult>>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    this.sql.exec(topup.TOPUP_SCHEMA);
    this.sql.exec(checkout.CHECKOUT_SCHEMA);
  }

  /** Places an order exactly once per idempotency key. */
  placeOrder(input: PlaceOrderInput): Promise<OrderResult> {
    const running = this.inflight.get(input.idempotencyKey);
    const seen = this.sql
      .exec<{ request_hash: string; order_id: string }>(
        "SELECT request_hash, order_id FROM idempotency WHERE key = ?",
        input.idempotencyKey,
      )
      .toArray()[0];
    if (seen && seen.request_hash !== input.requestHash)
      return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
    if (running) return running;
    if (seen) return this.finish(seen.order_id, true);

    const now = Date.now();
    if (input.customerRef) {
      for (const line of input.lines) {
        const bought = this.sql
          .exec<{ n: number }>(
            "SELECT COALESCE(SUM(quantity), 0) AS n FROM purchases WHERE customer_ref = ? AND product_id = ? AND at >= ?",
            input.customerRef,
            line.product_id,
            windowStart(line, now),
          )
          .one().n;
        const verdict = checkCustomerLimit(line, bought, line.quantity);
        if (!verdict.ok)
          return Promise.resolve({
            ok: false,
            reason: "per_customer_limit",
            product_id: line.product_id,
            limit: verdict.limit,
          });
      }
    }
    const order: OrderRecord = {
      id: newId("ord", now),
      channel_id: input.channelId,
      status: "pending",
      customer_ref: input.customerRef,
      external_ref: input.externalRef,
      currency: input.lines[0].currency,
      total_amount: orderTotal(input.lines),
      lines: input.lines.map((l) => ({ ...l, shard: null })),
      failure_reason: null,
      funds: input.paysFromBalance ? "reserved" : "none",
      created_at: now,
      updated_at: now,
    };
    // Step 1 of the saga: reserve the money (nothing is stored when it is short, so a retry after a top-up works).
    if (input.paysFromBalance) {
      const reserved = funds.reserve(this.sql, order.total_amount, order.currency);
      if (!reserved.ok) return Promise.resolve(reserved);
    }
    this.sql.exec(
      "INSERT INTO idempotency (key, request_hash, order_id, created_at) VALUES (?, ?, ?, ?)",
      input.idempotencyKey,
      input.requestHash,
      order.id,
      now,
    );
    // A top-up line never goes to a SkuPool: the order waits in `processing` for the provider (objects/channel-topup.ts).
    if (isTopupOrder(order.lines)) topup.start(this.sql, order, now);
    this.saveOrder(order);
    if (input.customerRef) {
      for (const line of input.lines) {
        this.sql.exec(
          "INSERT INTO purchases (order_id, product_id, customer_ref, quantity, at) VALUES (?, ?, ?, ?, ?)",
          order.id,
          line.product_id,
          input.customerRef,
          line.quantity,
          now,
        );
      }
    }
    void this.ctx.storage.setAlarm(now + STALE_PENDING_MS);
    if (order.status === "processing") return this.sendTopups().then(() => this.finish(order.id, false));
    const promise = this.drive(order.id).finally(() => this.inflight.delete(input.idempotencyKey));
    this.inflight.set(input.idempotencyKey, promise);
    return promise;
  }

  /** The stored outcome of an idempotency key, if any (used when the request itself no longer validates). */
  replay(idempotencyKey: string, requestHash: string): Promise<OrderResult> | null {
    const seen = this.sql
      .exec<{ request_hash: string; order_id: string }>(
        "SELECT request_hash, order_id FROM idempotency WHERE key = ?",
        idempotencyKey,
      )
      .toArray()[0];
    if (!seen) return null;
    if (seen.request_hash !== requestHash) return Promise.resolve({ ok: false, reason: "idempotency_mismatch" });
    return this.inflight.get(idempotencyKey) ?? this.finish(seen.order_id, true);
  }

  /** An order of this channel with its codes (revealed from the pools), or null. */
  async getOrder(
    orderId: string,
    withCodes = true,
  ): Promise<{ order: OrderRecord; codes: Record<number, IssuedCode[]> | null; topup: TopupView | null } | null> {
    const order = this.loadOrder(orderId);
    if (!order) return null;
    const view = topup.view(this.sql, order);
    if (!withCodes) return { order, codes: null, topup: view };
    return { order, codes: order.status === "fulfilled" ? await this.revealCodes(order) : {}, topup: view };
  }

  /** Credits the prepaid balance; idempotent by movement id. */
  topUp(
    channelId: string,
    movementId: string,
    amount: number,
    currency: string,
    note: string | null,
    actor: string,
  ): funds.TopUpResult {
    const result = funds.topUp(this.sql, movementId, amount, currency, note, actor, Date.now());
    if (result.ok && !result.replayed) {
      recordEvent(this.sql, `channel:${channelId}`, "balance.topped_up", {
        channel_id: channelId,
        movement_id: movementId,
        amount,
        currency,
        balance: result.balance,
      });
      void this.ctx.storage.setAlarm(Date.now());
    }
    return result;
  }

  setCreditLimit(limit: number, actor: string): funds.AccountState {
    funds.setCreditLimit(this.sql, limit, actor, Date.now());
    return funds.account(this.sql);
  }

  /** Balance, credit, reserved funds and the latest movements. */
  balance(limit = 50, before?: string) {
    const a = funds.account(this.sql);
    return {
      balance: a.balance,
      credit_limit: a.credit_limit,
      reserved: a.reserved,
      available: funds.availableFunds(a),
      currency: a.currency,
      movements: funds.movements(this.sql, limit + 1, before),
    };
  }

  /** Balance and outbox position read in one step: what reconciliation calls the truth. */
  reconcileView(): { balance: number; currency: string | null; position: number } {
    const a = funds.account(this.sql);
    return { balance: a.balance, currency: a.currency, position: outboxPosition(this.sql) };
  }

  /** Top-up saga steps for the TOPUPS consumer and provider notices (objects/channel-topup.ts); each is idempotent. */
  topupBegin(orderId: string, final = false): topup.Begin {
    return this.topupStep(() => topup.begin(this.sql, orderId, final, Date.now()));
  }
  topupFinish(orderId: string, outcome: topup.Final): boolean {
    return this.topupStep(() => topup.finish(this.sql, orderId, outcome, Date.now()));
  }
  topupNote(orderId: string, error: string): void {
    topup.note(this.sql, orderId, error, Date.now());
  }
  /** One transaction, then the alarm flushes the events it wrote. */
  private topupStep<T>(step: () => T): T {
    const out = this.ctx.storage.transactionSync(step);
    void this.ctx.storage.setAlarm(Date.now());
    return out;
  }

  /**
   * Queue messages of top-ups not sent yet; a failure is retried by the alarm. One send at a time:
   * placeOrder and the alarm could both see a row unsent while its message is in flight and send it twice.
   */
  private sendTopups(): Promise<void> {
    this.topupSending = this.topupSending
      .then(async () => {
        await topup.enqueuePending(this.sql, this.env.TOPUPS);
      })
      .catch(() => {
        void this.ctx.storage.setAlarm(Date.now() + 1_000);
      });
    return this.topupSending;
  }
  private topupSending: Promise<void> = Promise.resolve();

  /** Consumer checkout, gateway notices and refunds: logic in objects/channel-checkout.ts and channel-refund.ts. */
  beginCheckout(input: checkout.CheckoutInput) {
    return checkout.beginCheckout(this.host(), input);
  }
  checkoutOf(orderId: string) {
    return {
      order: checkout.loadOrder(this.sql, orderId),
      checkout: checkout.loadCheckout(this.sql, orderId),
      refund: refunds.refundOf(this.sql, orderId),
    };
  }
  applyPaymentNotice(notice: VerifiedNotice) {
    return checkout.applyNotice(this.host(), notice);
  }
  refundOrder(input: refunds.RefundInput) {
    return refunds.refundOrder(this.host(), input);
  }
  private host(): checkout.Host {
    return { sql: this.sql, env: this.env, ctx: this.ctx };
  }

  /** Finishes stale pending orders, drops old idempotency keys and flushes the outbox. */
  async alarm(): Promise<void> {
    const now = Date.now();
    await checkout.onAlarm(this.host(), now);
    await refunds.resumeRefunds(this.host(), now);
    const stale = this.sql
      .exec<{ id: string }>(
        "SELECT id FROM orders WHERE status = 'pending' AND updated_at <= ?",
        now - STALE_PENDING_MS,
      )
      .toArray();
    for (const { id } of stale) await this.drive(id);
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
    await this.sendTopups(); // one sender at a time, with placeOrder
    await flushOutbox(this.sql, this.env.EVENTS);
    const pending = this.sql
      .exec<{ t: number | null }>("SELECT MIN(updated_at) AS t FROM orders WHERE status = 'pending'")
      .one().t;
    if (pendingEvents(this.sql) > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
    else if (pending !== null) await this.ctx.storage.setAlarm(pending + STALE_PENDING_MS);
    else await this.ctx.storage.setAlarm(now + IDEMPOTENCY_TTL_MS);
    const due = checkout.nextAlarm(this.sql);
    if (due !== null && due < ((await this.ctx.storage.getAlarm()) ?? Infinity)) await this.ctx.storage.setAlarm(due);
  }

  /** Issues every line; on any refusal returns what was issued and fails the order. Each step is idempotent. */
  private async drive(orderId: string): Promise<OrderResult> {
    const order = this.loadOrder(orderId)!;
    if (order.status !== "pending") return this.finish(orderId, false);
    let refusal: OrderRefusal | null = null;
    for (let line = 0; line < order.lines.length && !refusal; line++) {
      const spec = order.lines[line];
      let served: number | null = null;
      let available = 0;
      let reason: "out_of_stock" | "quota_exceeded" = "quota_exceeded";
      for (const shard of shardOrder(orderId, spec.shards)) {
        const result = await skuPool(this.env, { productId: spec.product_id, shard }).issue(
          { productId: spec.product_id, shard },
          { orderId, line, quantity: spec.quantity, channelId: order.channel_id, validity: spec.validity },
        );
        if (result.ok) {
          served = shard;
          break;
        }
        if (result.reason === "order_returned") {
          reason = "out_of_stock";
          break;
        }
        available = Math.max(available, result.available);
        if (result.reason === "out_of_stock") reason = "out_of_stock";
      }
      if (served === null) refusal = { reason, product_id: spec.product_id, available };
      else spec.shard = served;
    }
    if (refusal) {
      for (const spec of order.lines) {
        for (let shard = 0; shard < spec.shards; shard++)
          await skuPool(this.env, { productId: spec.product_id, shard }).returnOrder(
            { productId: spec.product_id, shard },
            orderId,
          );
      }
    }
    const current = this.loadOrder(orderId)!;
    if (current.status === "pending") {
      const now = Date.now();
      const next: OrderRecord = {
        ...order,
        status: refusal ? "failed" : "fulfilled",
        failure_reason: refusal?.reason ?? null,
        updated_at: now,
      };
      // Last step of the saga, in the same transaction as the status: commit or release the reserved money.
      if (order.funds === "reserved") {
        if (refusal) funds.release(this.sql, order.total_amount);
        else funds.commit(this.sql, orderId, order.total_amount, now);
        next.funds = refusal ? "released" : "committed";
      }
      this.saveOrder(next);
      if (refusal) this.sql.exec("DELETE FROM purchases WHERE order_id = ?", orderId);
      recordEvent(
        this.sql,
        `channel:${order.channel_id}`,
        refusal ? "order.failed" : "order.fulfilled",
        { order: publicOrder(next) },
        now,
      );
      // Money moved: the ledger posts the sale and its split from this event (queues/ledger.ts).
      if (next.funds === "committed")
        recordEvent(
          this.sql,
          `channel:${order.channel_id}`,
          "order.paid",
          {
            order: publicOrder(next),
            payment: { method: "balance", amount: order.total_amount, currency: order.currency },
          },
          now,
        );
      void this.ctx.storage.setAlarm(now);
    }
    return refusal ? { ok: false, ...refusal, order: this.loadOrder(orderId)! } : this.finish(orderId, false);
  }

  private async finish(orderId: string, replayed: boolean): Promise<OrderResult> {
    const order = this.loadOrder(orderId)!;
    if (order.status === "pending") return this.drive(orderId);
    if (order.status === "failed" && !isTopupOrder(order.lines)) {
      const product = order.lines.find((l) => l.shard === null)?.product_id ?? order.lines[0].product_id;
      const reason = order.failure_reason === "quota_exceeded" ? "quota_exceeded" : "out_of_stock";
      return { ok: false, reason, product_id: product, available: 0, order };
    }
    return { ok: true, order, codes: await this.revealCodes(order), replayed };
  }

  private async revealCodes(order: OrderRecord): Promise<Record<number, IssuedCode[]>> {
    const out: Record<number, IssuedCode[]> = {};
    await Promise.all(
      order.lines.map(async (spec, line) => {
        if (spec.shard === null) return;
        const ref = { productId: spec.product_id, shard: spec.shard };
        const codes = await skuPool(this.env, ref).orderCodes(ref, order.id);
        out[line] = codes[line] ?? [];
      }),
    );
    return out;
  }

  private loadOrder(orderId: string): OrderRecord | null {
    const row = this.sql.exec<{ record: string }>("SELECT record FROM orders WHERE id = ?", orderId).toArray()[0];
    return row ? (JSON.parse(row.record) as OrderRecord) : null;
  }

  private saveOrder(order: OrderRecord): void {
    this.sql.exec(
      "INSERT OR REPLACE INTO orders (id, status, record, updated_at) VALUES (?, ?, ?, ?)",
      order.id,
      order.status,
      JSON.stringify(order),
      order.updated_at,
    );
  }
}

/** The order as events and projections see it: no validity internals, never codes. */
export function publicOrder(order: OrderRecord) {
  return {
    id: order.id,
    channel_id: order.channel_id,
    status: order.status,
    customer_ref: order.customer_ref,
    external_ref: order.external_ref,
    currency: order.currency,
    total_amount: order.total_amount,
    failure_reason: order.failure_reason,
    created_at: new Date(order.created_at).toISOString(),
    updated_at: new Date(order.updated_at).toISOString(),
    items: order.lines.map((l) => ({
      product_id: l.product_id,
      quantity: l.quantity,
      unit_price: l.unit_price,
      amount: l.quantity * l.unit_price,
    })),
  };
}
