/**
 * SkuPool: the codes of one product shard (`sku:<product_id>:<shard>`), and the only
 * place they change state. Each RPC method does its check and change in one synchronous
 * block (no await in between) and writes its event to the outbox in the same block;
 * the alarm flushes the outbox, expires holds and runs background generation and
 * re-encryption jobs. Keys come from this object's own env, never from a caller.
 */
import { DurableObject } from "cloudflare:workers";
import type { CodeRule } from "../domain/code-format";
import { toIso, type Validity } from "../domain/validity";
import { codeKeys } from "../security/code-crypto";
import { requireSecrets } from "../security/secrets";
import { flushOutbox, outboxPosition, pendingEvents } from "./outbox";
import { type PreparedCode, SKU_POOL_SCHEMA } from "./sku-pool.schema";
import * as quotas from "./sku-pool-allocations";
import * as batches from "./sku-pool-batches";
import * as issuing from "./sku-pool-issue";
import { type JobRow, runJob } from "./sku-pool-jobs";
import * as redemption from "./sku-pool-redemption";
import * as reencryption from "./sku-pool-reencrypt";
import * as refunds from "./sku-pool-refund";

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

export type HoldResult =
  | { ok: true; expires_at: string }
  | { ok: false; reason: "out_of_stock" | "quota_exceeded"; available: number };

export interface StockCounts {
  unallocated: number;
  total: number;
  available: number;
  held: number;
  issued: number;
  redeemed: number;
  voided: number;
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

  /** Stages codes of a loading batch; they stay invisible until `publishBatch`. Duplicates are skipped and returned. */
  loadCodes(
    ref: PoolRef,
    batchId: string,
    keyId: string,
    codes: PreparedCode[],
  ): { inserted: number; duplicates: string[] } {
    this.remember(ref);
    return batches.loadCodes(this.sql, batchId, keyId, codes);
  }

  /** Makes a batch's staged codes available in one step, so a batch is all-or-nothing. */
  publishBatch(ref: PoolRef, batchId: string): { published: number } {
    const published = batches.publishBatch(this.sql, poolName(ref), ref, batchId);
    if (published > 0) this.wake();
    return { published };
  }

  /** Drops staged codes of a batch whose index entries were not confirmed (called by the job runner). */
  unstage(batchId: string, indexes: string[]): void {
    batches.unstage(this.sql, batchId, indexes);
  }

  discardBatch(_ref: PoolRef, batchId: string): { discarded: number } {
    return { discarded: batches.discardBatch(this.sql, batchId) };
  }

  /** Starts a background generation job; the alarm works through it in chunks. */
  startJob(ref: PoolRef, job: { batchId: string; kind: string; rule: CodeRule; total: number }): void {
    this.remember(ref);
    this.sql.exec(
      "INSERT OR IGNORE INTO jobs (batch_id, kind, rule, total, done, status) VALUES (?, ?, ?, ?, 0, 'running')",
      job.batchId,
      job.kind,
      JSON.stringify(job.rule),
      job.total,
    );
    this.wake();
  }

  /** Starts re-encrypting every code not under the current key (CODE_ENCRYPTION_KEY_ID); the alarm works through it. */
  startReencrypt(ref: PoolRef): reencryption.ReencryptStatus {
    this.remember(ref);
    reencryption.startReencrypt(this.sql, Date.now());
    this.wake();
    return this.reencryptStatus(ref);
  }

  reencryptStatus(_ref: PoolRef): reencryption.ReencryptStatus {
    return reencryption.reencryptStatus(this.sql, requireSecrets(this.env).encryptionKeyId);
  }

  /** Progress of a background job; called by the job runner inside this object. */
  markJob(batchId: string, done: number, status: string, error?: string): void {
    this.sql.exec(
      "UPDATE jobs SET done = ?, status = ?, error = ? WHERE batch_id = ?",
      done,
      status,
      error ?? null,
      batchId,
    );
  }

  /** Issues `quantity` codes to an order line. Idempotent: the same order line gets the same codes. */
  async issue(ref: PoolRef, req: issuing.IssueRequest): Promise<IssueResult> {
    const result = issuing.issueLine(this.sql, poolName(ref), ref.productId, req, Date.now());
    if (!result.ok) return result;
    this.wake();
    return { ok: true, codes: await this.revealLine(req.orderId, req.line) };
  }

  /** Puts an order's unredeemed codes back on the shelf (the order failed elsewhere). Idempotent. */
  returnOrder(ref: PoolRef, orderId: string): { returned: number } {
    const returned = issuing.returnOrder(this.sql, poolName(ref), ref.productId, orderId, Date.now());
    this.wake();
    return { returned };
  }

  /** The codes of an order, decrypted, for the order's own channel. */
  async orderCodes(_ref: PoolRef, orderId: string): Promise<Record<number, IssuedCode[]>> {
    const lines = this.sql
      .exec<{ line: number }>("SELECT DISTINCT line FROM codes WHERE order_id = ?", orderId)
      .toArray();
    const out: Record<number, IssuedCode[]> = {};
    for (const { line } of lines) out[line] = await this.revealLine(orderId, line);
    return out;
  }

  /** Holds codes for a checkout until `confirmHold`, `releaseHold` or expiry (alarm). Idempotent by hold id. */
  hold(ref: PoolRef, req: issuing.HoldRequest): HoldResult {
    const result = issuing.placeHold(this.sql, poolName(ref), ref.productId, req, Date.now());
    if (!result.ok) return result as HoldResult;
    this.wake(result.expires_at);
    return { ok: true, expires_at: toIso(result.expires_at)! };
  }

  /** Turns a live hold into issued codes of an order line. */
  async confirmHold(
    ref: PoolRef,
    req: { holdId: string; orderId: string; line: number; validity: Validity },
  ): Promise<IssueResult | { ok: false; reason: "hold_not_found" | "hold_expired" }> {
    const result = issuing.confirmHold(this.sql, poolName(ref), ref.productId, req, Date.now());
    this.wake();
    return result.ok ? { ok: true, codes: await this.revealLine(result.orderId, req.line) } : result;
  }

  releaseHold(ref: PoolRef, holdId: string): { released: number } {
    const released = issuing.releaseHold(this.sql, poolName(ref), ref.productId, holdId, Date.now());
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

  /** Refund, step 1: freezes the order's codes here for `refundId`, or refuses when one is redeemed. */
  freezeOrder(_ref: PoolRef, orderId: string, refundId: string): refunds.FreezeResult {
    return refunds.freezeOrder(this.sql, orderId, refundId, Date.now());
  }

  /** Refund refused in another pool: lifts this refund's freeze. */
  thawOrder(_ref: PoolRef, orderId: string, refundId: string): void {
    refunds.thawOrder(this.sql, orderId, refundId);
  }

  /** Refund, step 2 (every pool froze): voids the frozen codes; idempotent. */
  voidFrozenOrder(ref: PoolRef, orderId: string, refundId: string, reason: string): { voided: number } {
    const result = refunds.voidFrozenOrder(this.sql, poolName(ref), orderId, refundId, reason, Date.now());
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
  configureChannel(_ref: PoolRef, channel: quotas.ChannelRef, lowWater: number | null, refill: number | null): void {
    quotas.configureReplenishment(this.sql, channel, lowWater, refill);
  }

  /** Quotas of the channels under `path`, and what the root has not given out. */
  allocations(
    _ref: PoolRef,
    path: string,
  ): { unallocated: number; allocations: ReturnType<typeof quotas.allocationsUnder> } {
    return { unallocated: quotas.unallocated(this.sql), allocations: quotas.allocationsUnder(this.sql, path) };
  }

  stock(_ref: PoolRef): StockCounts {
    const counts: StockCounts = { unallocated: 0, total: 0, available: 0, held: 0, issued: 0, redeemed: 0, voided: 0 };
    for (const row of this.sql.exec<{ status: keyof StockCounts; n: number }>(
      "SELECT status, COUNT(*) AS n FROM codes WHERE status != 'staged' GROUP BY status",
    )) {
      counts[row.status] = row.n;
      counts.total += row.n;
    }
    counts.unallocated = quotas.unallocated(this.sql);
    return counts;
  }

  /** Counts by state and the outbox position, read in one step: what reconciliation calls the truth. */
  reconcileView(ref: PoolRef): { counts: StockCounts; position: number } {
    return { counts: this.stock(ref), position: outboxPosition(this.sql) };
  }

  /** Flushes the outbox, expires holds and advances a generation job; re-arms itself while work remains. */
  async alarm(): Promise<void> {
    const now = Date.now();
    const ref = this.ref();
    if (ref) issuing.expireHolds(this.sql, poolName(ref), ref.productId, now);
    const job = this.sql.exec<JobRow>("SELECT * FROM jobs WHERE status = 'running' LIMIT 1").toArray()[0];
    // A second and a half of work per alarm: few alarm round trips, and short enough that D1 and
    // other requests are never starved (longer alarms stalled local D1 reads for minutes).
    if (job && ref) await runJob(this.env, ref, job, this, 1_500);
    // Re-encryption: up to 2,000 codes and about a second per alarm.
    const reencrypting =
      !job &&
      ref !== null &&
      (await reencryption.advanceReencrypt(
        this.sql,
        poolName(ref),
        await codeKeys(requireSecrets(this.env)),
        1_000,
        ref,
      ));
    await flushOutbox(this.sql, this.env.EVENTS);
    const more =
      reencrypting ||
      reencryption.readJob(this.sql)?.status === "running" ||
      this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM jobs WHERE status = 'running'").one().n > 0 ||
      pendingEvents(this.sql) > 0;
    const nextHold = this.sql
      .exec<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM holds WHERE state = 'held'")
      .one().t;
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

  /** One code in clear, for the console's password-checked, audited reveal (routes/codes.ts). */
  async revealCode(_ref: PoolRef, index: string): Promise<IssuedCode | null> {
    return reencryption.revealIndex(this.sql, await codeKeys(requireSecrets(this.env)), index);
  }

  private async revealLine(orderId: string, line: number): Promise<IssuedCode[]> {
    return reencryption.revealLine(this.sql, await codeKeys(requireSecrets(this.env)), orderId, line);
  }

  /** Makes sure the alarm runs soon (to flush the outbox). */
  private wake(at = Date.now()): void {
    void this.ctx.storage.getAlarm().then((current) => {
      if (current === null || current > at) return this.ctx.storage.setAlarm(at);
    });
  }
}
