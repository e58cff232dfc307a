/** Split-settlement rules on D1: one row per channel, replaced whole (the ledger poster reads them at payment time). */

export interface SettlementRuleRow {
  channel_id: string;
  bps: number | null;
  fixed_per_unit: number | null;
  cap: number | null;
  /** JSON array of per-product overrides. */
  overrides: string;
  updated_at: number;
}

/** Sets (or replaces) a channel's rule and returns the stored row. */
export async function upsertSettlementRule(
  db: D1Database,
  r: {
    channelId: string;
    bps: number | null;
    fixedPerUnit: number | null;
    cap: number | null;
    overrides: string;
    now: number;
    by: string;
  },
): Promise<SettlementRuleRow | null> {
  return db
    .prepare(
      `INSERT INTO settlement_rules (channel_id, bps, fixed_per_unit, cap, overrides, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (channel_id) DO UPDATE SET bps = excluded.bps, fixed_per_unit = excluded.fixed_per_unit, cap = excluded.cap, overrides = excluded.overrides,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by RETURNING *`,
    )
    .bind(r.channelId, r.bps, r.fixedPerUnit, r.cap, r.overrides, r.now, r.by)
    .first<SettlementRuleRow>();
}

/** A channel's rule, or null when none is set. */
export async function getSettlementRule(db: D1Database, channelId: string): Promise<SettlementRuleRow | null> {
  return db.prepare("SELECT * FROM settlement_rules WHERE channel_id = ?1").bind(channelId).first<SettlementRuleRow>();
}
