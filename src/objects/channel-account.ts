/**
 * ChannelAccount: one per channel, the only writer of that channel's orders and money. It
 * coordinates the channel's orders (balance orders, consumer checkouts, direct top-ups, refunds),
 * keeps idempotency keys for 24 h and counts per-customer purchases exactly. An alarm drives any
 * order left half-way by a crash to its end and flushes the outbox.
 *
 * Tables: channel-account.schema.ts. The class only delegates; the logic lives in
 * channel-order-saga.ts, channel-checkout.ts, channel-payment.ts, channel-refund.ts,
 * channel-topup.ts and channel-balance.ts, which share the order rows through channel-orders.ts.
 */
import { DurableObject } from "cloudflare:workers";
import type { PlaceOrderInput } from "../domain/orders";
import type { VerifiedNotice } from "../gateways/types";
import { CHANNEL_ACCOUNT_SCHEMA } from "./channel-account.schema";
import * as funds from "./channel-balance";
import * as checkout from "./channel-checkout";
import { loadCheckout } from "./channel-checkout-store";
import type { Host } from "./channel-host";
import * as saga from "./channel-order-saga";
import {
  forgetIdempotencyBefore,
  IDEMPOTENCY_TTL_MS,
  loadOrder,
  oldestPending,
  stalePendingOrders,
} from "./channel-orders";
import * as payment from "./channel-payment";
import * as refunds from "./channel-refund";
import * as topup from "./channel-topup";
import { flushOutbox, outboxPosition, pendingEvents, recordEvent } from "./outbox";

export type { OrderResult } from "./channel-order-saga";

export function channelAccount(env: Env, channelId: string): DurableObjectStub<ChannelAccount> {
  return env.CHANNEL_ACCOUNT.get(env.CHANNEL_ACCOUNT.idFromName(channelId));
}

export class ChannelAccount extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly saga: saga.SagaHost;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(CHANNEL_ACCOUNT_SCHEMA);
    this.saga = { ...this.host(), inflight: new Map(), sendTopups: () => this.sendTopups() };
  }

  /** Places an order exactly once per idempotency key. */
  placeOrder(input: PlaceOrderInput): Promise<saga.OrderResult> {
    return saga.placeOrder(this.saga, input);
  }

  /** The stored outcome of an idempotency key, if any (used when the request itself no longer validates). */
  replay(idempotencyKey: string, requestHash: string): Promise<saga.OrderResult> | null {
    return saga.replay(this.saga, idempotencyKey, requestHash);
  }

  /** An order of this channel with its codes (revealed from the pools), or null. */
  getOrder(orderId: string, withCodes = true) {
    return saga.getOrder(this.saga, orderId, withCodes);
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

  /** Consumer checkout, gateway notices and refunds (channel-checkout.ts, channel-payment.ts, channel-refund.ts). */
  beginCheckout(input: checkout.CheckoutInput) {
    return checkout.beginCheckout(this.host(), input);
  }
  checkoutOf(orderId: string) {
    return {
      order: loadOrder(this.sql, orderId),
      checkout: loadCheckout(this.sql, orderId),
      refund: refunds.refundOf(this.sql, orderId),
    };
  }
  applyPaymentNotice(notice: VerifiedNotice) {
    return payment.applyNotice(this.host(), notice);
  }
  refundOrder(input: refunds.RefundInput) {
    return refunds.refundOrder(this.host(), input);
  }
  private host(): Host {
    return { sql: this.sql, env: this.env, ctx: this.ctx };
  }

  /** Finishes stale pending orders, drops old idempotency keys and flushes the outbox. */
  async alarm(): Promise<void> {
    const now = Date.now();
    await payment.onAlarm(this.host(), now);
    await refunds.resumeRefunds(this.host(), now);
    for (const id of stalePendingOrders(this.sql, now - saga.STALE_PENDING_MS)) await saga.drive(this.saga, id);
    forgetIdempotencyBefore(this.sql, now - IDEMPOTENCY_TTL_MS);
    await this.sendTopups(); // one sender at a time, with placeOrder
    await flushOutbox(this.sql, this.env.EVENTS);
    const pending = oldestPending(this.sql);
    if (pendingEvents(this.sql) > 0) await this.ctx.storage.setAlarm(Date.now() + 1_000);
    else if (pending !== null) await this.ctx.storage.setAlarm(pending + saga.STALE_PENDING_MS);
    else await this.ctx.storage.setAlarm(now + IDEMPOTENCY_TTL_MS);
    const due = payment.nextAlarm(this.sql);
    if (due !== null && due < ((await this.ctx.storage.getAlarm()) ?? Infinity)) await this.ctx.storage.setAlarm(due);
  }
}
