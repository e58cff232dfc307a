/**
 * SkuPool: the codes of one product shard (`sku:<product_id>:<shard>`), and the only
 * place they change state. Each RPC method does its check and change in one synchronous
 * block (no await in between) and writes its event to the outbox in the same block;
 * the alarm flushes the outbox, expires holds and runs background generation jobs.
 */
import { DurableObject } from "cloudflare:workers";
import type { CodeRule } from "../domain/code-format";
import { expiryFor, toIso, type Validity } from "../domain/validity";
import { codeKeys, unseal } from "../security/code-crypto";
import { requireSecrets } from "../security/secrets";
import { flushOutbox, pendingEvents, recordEvent } from "./outbox";
import { runJobChunk, type JobRow } from "./sku-pool-jobs";
import * as quotas from "./sku-pool-allocations";
import * as redemption from "./sku-pool-redemption";
import { SKU_POOL_SCHEMA, type PreparedCode } from "./sku-pool.schema";

export interface PoolRef {
  productId: string;
  shard: number;
}

export interface IssuedCode {
  code: string;
  pin?: string;
  expires_at: string | null;
}

export type IssueResult =
  | { ok: true; codes: IssuedCode[] }
  | { ok: false; reason: "out_of_stock" | "quota_exceeded"; available: number }
  | { ok: false; reason: "order_returned" };

export type HoldResult = { ok: true; expires_at: string } | { ok: false; reason: "out_of_stock"; available: number };

export interface StockCounts {
  unallocated: number;
  total: number;
  available: number;
  held: number;
  issued: number;
  redeemed: number;
  voided: number;
}

/** Rows changed by the statement just run (rowsWritten also counts index writes). */
function changed(sql: SqlStorage, cursor: SqlStorageCursor<Record<string, SqlStorageValue>>): number {
  cursor.toArray();
  return sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
}

export const poolName = (ref: PoolRef) => `sku:${ref.productId}:${ref.shard}`;

export function skuPool(env: Env, ref: PoolRef): DurableObjectStub<SkuPool> {
  return env.SKU_POOL.get(env.SKU_POOL.idFromName(poolName(ref)));
}

export class SkuPool extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SKU_POOL_SCHEMA);
    this.sql.exec(quotas.ALLOCATIONS_SCHEMA);
  }

  /** Stages codes of a loading batch; they stay invisible until `publishBatch`. Duplicates inside the product are skipped and returned. */
  loadCodes(ref: PoolRef, batchId: string, keyId: string, codes: PreparedCode[]): { inserted: number; duplicates: string[] } {
    this.remember(ref);
    const rows = JSON.stringify(codes.map((c) => [c.idx, c.sealed, c.last4, c.pin_hash]));
    const duplicates = this.sql
      .exec<{ idx: string }>("SELECT idx FROM codes WHERE idx IN (SELECT json_extract(value, '$[0]') FROM json_each(?))", rows)
      .toArray()
      .map((r) => r.idx);
    const inserted = changed(this.sql, this.sql.exec(
      `INSERT INTO codes (idx, sealed, key_id, last4, pin_hash, batch_id, status)
       SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, json_extract(value, '$[2]'), json_extract(value, '$[3]'), ?, 'staged'
       FROM json_each(?) WHERE true ON CONFLICT (idx) DO NOTHING`,
      keyId, batchId, rows,
    ));
    return { inserted, duplicates };
  }

  /** Makes a batch's staged codes available in one step, so a batch is all-or-nothing. */
  publishBatch(ref: PoolRef, batchId: string): { published: number } {
    const published = changed(this.sql, this.sql.exec("UPDATE codes SET status = 'available' WHERE batch_id = ? AND status = 'staged'", batchId));
    if (published > 0) {
      recordEvent(this.sql, poolName(ref), "batch.published", { product_id: ref.productId, shard: ref.shard, batch_id: batchId, count: published });
      this.wake();
    }
    return { published };
  }

  discardBatch(ref: PoolRef, batchId: string): { discarded: number } {
    return { discarded: changed(this.sql, this.sql.exec("DELETE FROM codes WHERE batch_id = ? AND status = 'staged'", batchId)) };
  }

  /** Starts a background generation job; the alarm works through it in chunks. */
  startJob(ref: PoolRef, job: { batchId: string; kind: string; rule: CodeRule; total: number }): void {
    this.remember(ref);
    this.sql.exec(
      "INSERT OR IGNORE INTO jobs (batch_id, kind, rule, total, done, status) VALUES (?, ?, ?, ?, 0, 'running')",
      job.batchId, job.kind, JSON.stringify(job.rule), job.total,
    );
    this.wake();
  }

  /** Progress of a background job; called by the job runner inside this object. */
  markJob(batchId: string, done: number, status: string, error?: string): void {
    this.sql.exec("UPDATE jobs SET done = ?, status = ?, error = ? WHERE batch_id = ?", done, status, error ?? null, batchId);
  }

  /** Issues `quantity` codes to an order line. Idempotent: the same order line gets the same codes. */
  async issue(ref: PoolRef, req: { orderId: string; line: number; quantity: number; channelId: string; validity: Validity }): Promise<IssueResult> {
    const now = Date.now();
    const done = this.sql.exec<{ state: string }>("SELECT state FROM issues WHERE order_id = ? AND line = ?", req.orderId, req.line).toArray()[0];
    if (done?.state === "returned") return { ok: false, reason: "order_returned" };
    if (!done) {
      const ids = this.sql
        .exec<{ id: number }>("SELECT id FROM codes WHERE status = 'available' ORDER BY id LIMIT ?", req.quantity)
        .toArray()
        .map((r) => r.id);
      if (ids.length < req.quantity) return { ok: false, reason: "out_of_stock", available: ids.length };
      // A channel sells from its quota; the root from unallocated stock, never from its channels' quotas.
      if (!quotas.consumeQuota(this.sql, req.channelId, req.quantity)) {
        return { ok: false, reason: "quota_exceeded", available: Math.max(0, quotas.sellable(this.sql, req.channelId)) };
      }
      const expiresAt = expiryFor(req.validity, now);
      this.sql.exec(
        `UPDATE codes SET status = 'issued', order_id = ?, line = ?, channel_id = ?, issued_at = ?, expires_at = ?
         WHERE id IN (SELECT value FROM json_each(?))`,
        req.orderId, req.line, req.channelId, now, expiresAt, JSON.stringify(ids),
      );
      this.sql.exec("INSERT INTO issues (order_id, line, quantity, state, created_at) VALUES (?, ?, ?, 'issued', ?)", req.orderId, req.line, req.quantity, now);
      this.recordIssued(ref, req.orderId, req.channelId, ids, expiresAt, now);
      quotas.replenish(this.sql, poolName(ref), ref.productId, req.channelId, now);
    }
    return { ok: true, codes: await this.revealLine(req.orderId, req.line) };
  }

  /** Puts an order's unredeemed codes back on the shelf (the order failed elsewhere). Idempotent. */
  returnOrder(ref: PoolRef, orderId: string): { returned: number } {
    const rows = this.sql.exec<{ idx: string; channel_id: string }>("SELECT idx, channel_id FROM codes WHERE order_id = ? AND status = 'issued'", orderId).toArray();
    if (rows.length > 0) quotas.restoreQuota(this.sql, rows[0].channel_id, rows.length);
    this.sql.exec(
      `UPDATE codes SET status = 'available', order_id = NULL, line = NULL, channel_id = NULL, issued_at = NULL, expires_at = NULL
       WHERE order_id = ? AND status = 'issued'`,
      orderId,
    );
    const lines = changed(this.sql, this.sql.exec("UPDATE issues SET state = 'returned' WHERE order_id = ?", orderId));
    // A return that comes before any issue marks the line so a late issue cannot happen.
    if (lines === 0) this.sql.exec("INSERT OR IGNORE INTO issues (order_id, line, quantity, state, created_at) VALUES (?, -1, 0, 'returned', ?)", orderId, Date.now());
    if (rows.length > 0) {
      recordEvent(this.sql, poolName(ref), "code.returned", { product_id: ref.productId, order_id: orderId, code_indexes: rows.map((r) => r.idx) });
      this.wake();
    }
    return { returned: rows.length };
  }

  /** The codes of an order, decrypted, for the order's own channel. */
  async orderCodes(ref: PoolRef, orderId: string): Promise<Record<number, IssuedCode[]>> {
    const lines = this.sql.exec<{ line: number }>("SELECT DISTINCT line FROM codes WHERE order_id = ?", orderId).toArray();
    const out: Record<number, IssuedCode[]> = {};
    for (const { line } of lines) out[line] = await this.revealLine(orderId, line);
    return out;
  }

  /** Holds codes for a checkout until `confirmHold`, `releaseHold` or expiry (alarm). Idempotent by hold id. */
  hold(ref: PoolRef, req: { holdId: string; quantity: number; ttlMs: number; channelId: string }): HoldResult {
    const existing = this.sql.exec<{ expires_at: number }>("SELECT expires_at FROM holds WHERE hold_id = ?", req.holdId).toArray()[0];
    if (existing) return { ok: true, expires_at: toIso(existing.expires_at)! };
    const ids = this.sql.exec<{ id: number }>("SELECT id FROM codes WHERE status = 'available' ORDER BY id LIMIT ?", req.quantity).toArray().map((r) => r.id);
    if (ids.length < req.quantity) return { ok: false, reason: "out_of_stock", available: ids.length };
    const expiresAt = Date.now() + req.ttlMs;
    this.sql.exec("UPDATE codes SET status = 'held', hold_id = ?, channel_id = ? WHERE id IN (SELECT value FROM json_each(?))", req.holdId, req.channelId, JSON.stringify(ids));
    this.sql.exec("INSERT INTO holds (hold_id, quantity, channel_id, expires_at, state) VALUES (?, ?, ?, ?, 'held')", req.holdId, req.quantity, req.channelId, expiresAt);
    recordEvent(this.sql, poolName(ref), "stock.held", { product_id: ref.productId, hold_id: req.holdId, quantity: req.quantity, expires_at: toIso(expiresAt) });
    this.wake(expiresAt);
    return { ok: true, expires_at: toIso(expiresAt)! };
  }

  /** Turns a live hold into issued codes of an order line. */
  async confirmHold(ref: PoolRef, req: { holdId: string; orderId: string; line: number; validity: Validity }): Promise<IssueResult | { ok: false; reason: "hold_not_found" | "hold_expired" }> {
    const now = Date.now();
    const hold = this.sql.exec<{ state: string; expires_at: number; channel_id: string }>("SELECT state, expires_at, channel_id FROM holds WHERE hold_id = ?", req.holdId).toArray()[0];
    if (!hold) return { ok: false, reason: "hold_not_found" };
    if (hold.state === "held" && hold.expires_at <= now) this.expireHolds(ref, now);
    const state = hold.state === "held" && hold.expires_at <= now ? "expired" : hold.state;
    if (state === "expired" || state === "released") return { ok: false, reason: "hold_expired" };
    if (state === "held") {
      const ids = this.sql.exec<{ id: number }>("SELECT id FROM codes WHERE hold_id = ? AND status = 'held'", req.holdId).toArray().map((r) => r.id);
      const expiresAt = expiryFor(req.validity, now);
      this.sql.exec(
        "UPDATE codes SET status = 'issued', order_id = ?, line = ?, issued_at = ?, expires_at = ?, hold_id = NULL WHERE id IN (SELECT value FROM json_each(?))",
        req.orderId, req.line, now, expiresAt, JSON.stringify(ids),
      );
      this.sql.exec("UPDATE holds SET state = 'confirmed', order_id = ? WHERE hold_id = ?", req.orderId, req.holdId);
      this.sql.exec("INSERT OR IGNORE INTO issues (order_id, line, quantity, state, created_at) VALUES (?, ?, ?, 'issued', ?)", req.orderId, req.line, ids.length, now);
      this.recordIssued(ref, req.orderId, hold.channel_id, ids, expiresAt, now);
    }
    const orderId = this.sql.exec<{ order_id: string }>("SELECT order_id FROM holds WHERE hold_id = ?", req.holdId).one().order_id;
    return { ok: true, codes: await this.revealLine(orderId, req.line) };
  }

  releaseHold(ref: PoolRef, holdId: string): { released: number } {
    const hold = this.sql.exec<{ state: string }>("SELECT state FROM holds WHERE hold_id = ?", holdId).toArray()[0];
    if (!hold || hold.state !== "held") return { released: 0 };
    const released = changed(this.sql, this.sql.exec("UPDATE codes SET status = 'available', hold_id = NULL, channel_id = NULL WHERE hold_id = ? AND status = 'held'", holdId));
    this.sql.exec("UPDATE holds SET state = 'released' WHERE hold_id = ?", holdId);
    recordEvent(this.sql, poolName(ref), "stock.released", { product_id: ref.productId, hold_id: holdId, quantity: released });
    this.wake();
    return { released };
  }

  verify(ref: PoolRef, q: redemption.CodeQuery): redemption.VerifyResult {
    const result = redemption.verifyCode(this.sql, poolName(ref), q);
    this.wake();
    return result;
  }

  redeem(ref: PoolRef, input: redemption.RedeemInput): redemption.RedeemResult {
    const result = redemption.redeemCode(this.sql, poolName(ref), input);
    this.wake();
    return result;
  }

  reverse(ref: PoolRef, redemptionId: string, windowMs: number): redemption.ReverseResult {
    const result = redemption.reverseRedemption(this.sql, poolName(ref), redemptionId, windowMs, Date.now());
    this.wake();
    return result;
  }

  void(ref: PoolRef, index: string, reason: string): redemption.VoidResult {
    const result = redemption.voidCode(this.sql, poolName(ref), index, reason, Date.now());
    this.wake();
    return result;
  }

  /** Moves quota between a parent and its direct child (negative: back to the parent). */
  allocate(ref: PoolRef, child: quotas.ChannelRef, quantity: number): quotas.MoveResult {
    const result = quotas.moveQuota(this.sql, poolName(ref), child, quantity, ref.productId);
    this.wake();
    return result;
  }

  /** Sets a channel's replenishment rule for this product. */
  configureChannel(ref: PoolRef, channel: quotas.ChannelRef, lowWater: number | null, refill: number | null): void {
    quotas.configureReplenishment(this.sql, channel, lowWater, refill);
  }

  /** Quotas of the channels under `path`, and what the root has not given out. */
  allocations(ref: PoolRef, path: string): { unallocated: number; allocations: ReturnType<typeof quotas.allocationsUnder> } {
    return { unallocated: quotas.unallocated(this.sql), allocations: quotas.allocationsUnder(this.sql, path) };
  }

  stock(_ref: PoolRef): StockCounts {
    const counts: StockCounts = { unallocated: 0, total: 0, available: 0, held: 0, issued: 0, redeemed: 0, voided: 0 };
    for (const row of this.sql.exec<{ status: keyof StockCounts; n: number }>("SELECT status, COUNT(*) AS n FROM codes WHERE status != 'staged' GROUP BY status")) {
      counts[row.status] = row.n;
      counts.total += row.n;
    }
    counts.unallocated = quotas.unallocated(this.sql);
    return counts;
  }

  /** Flushes the outbox, expires holds and advances a generation job; re-arms itself while work remains. */
  async alarm(): Promise<void> {
    const now = Date.now();
    const ref = this.ref();
    if (ref) this.expireHolds(ref, now);
    const job = this.sql.exec<JobRow>("SELECT * FROM jobs WHERE status = 'running' LIMIT 1").toArray()[0];
    if (job && ref) await runJobChunk(this.env, ref, job, this);
    await flushOutbox(this.sql, this.env.EVENTS);
    const more = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'").one().n > 0 || pendingEvents(this.sql) > 0;
    const nextHold = this.sql.exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM holds WHERE state = 'held'").one().t;
    if (more) await this.ctx.storage.setAlarm(Date.now());
    else if (nextHold !== null) await this.ctx.storage.setAlarm(nextHold);
  }

  private remember(ref: PoolRef): void {
    this.sql.exec("INSERT OR IGNORE INTO meta (key, value) VALUES ('ref', ?)", JSON.stringify(ref));
  }

  private ref(): PoolRef | null {
    const row = this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = 'ref'").toArray()[0];
    return row ? (JSON.parse(row.value) as PoolRef) : null;
  }

  private expireHolds(ref: PoolRef, now: number): void {
    const expired = this.sql.exec<{ hold_id: string }>("SELECT hold_id FROM holds WHERE state = 'held' AND expires_at <= ?", now).toArray();
    for (const { hold_id } of expired) {
      const n = changed(this.sql, this.sql.exec("UPDATE codes SET status = 'available', hold_id = NULL, channel_id = NULL WHERE hold_id = ? AND status = 'held'", hold_id));
      this.sql.exec("UPDATE holds SET state = 'expired' WHERE hold_id = ?", hold_id);
      recordEvent(this.sql, poolName(ref), "stock.hold_expired", { product_id: ref.productId, hold_id, quantity: n }, now);
    }
  }

  private recordIssued(ref: PoolRef, orderId: string, channelId: string, ids: number[], expiresAt: number | null, now: number): void {
    const codes = this.sql.exec<{ idx: string }>("SELECT idx FROM codes WHERE id IN (SELECT value FROM json_each(?))", JSON.stringify(ids)).toArray();
    recordEvent(this.sql, poolName(ref), "code.issued", {
      product_id: ref.productId, order_id: orderId, channel_id: channelId, code_indexes: codes.map((c) => c.idx),
      issued_at: toIso(now), expires_at: toIso(expiresAt),
    }, now);
    this.wake();
  }

  private async revealLine(orderId: string, line: number): Promise<IssuedCode[]> {
    const keys = await codeKeys(requireSecrets(this.env));
    const rows = this.sql
      .exec<{ idx: string; sealed: string; expires_at: number | null }>("SELECT idx, sealed, expires_at FROM codes WHERE order_id = ? AND line = ? ORDER BY id", orderId, line)
      .toArray();
    return Promise.all(
      rows.map(async (r) => {
        const secret = await unseal(keys, r.idx, r.sealed);
        return secret.p === undefined ? { code: secret.c, expires_at: toIso(r.expires_at) } : { code: secret.c, pin: secret.p, expires_at: toIso(r.expires_at) };
      }),
    );
  }

  /** Makes sure the alarm runs soon (to flush the outbox). */
  private wake(at = Date.now()): void {
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) return this.ctx.storage.setAlarm(at);
    });
  }
}
