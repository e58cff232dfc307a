/**
 * Export jobs (POST/GET /v1/exports): a CSV of orders or of the redemption log under a filter, built in parts by
 * the exports queue. The file holds exactly the rows the list API shows for the same filter, in the same order,
 * once each, however often (or however concurrently) a message is delivered; only the asking channel and its
 * ancestors see a job.
 */

import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src";
import { insertExport } from "../src/db/exports";
import { csvLines, ORDER_COLUMNS, orderCells } from "../src/domain/export-csv";
import type { ExportMessage } from "../src/queues/exports";
import { createChannel, keyFor } from "./channel-fixtures";
import { call, eventually } from "./helpers";

const ORDERS = 12_000; // six parts of 2,000 rows: more than one queue message's worth
let agent: { id: string };
let store: { id: string };
let sibling: { id: string };
let agentKey: string;
let storeKey: string;
let siblingKey: string;

beforeAll(async () => {
  agent = await createChannel("Export agent", "agent");
  agentKey = await keyFor(agent.id);
  store = await createChannel("Export store", "store", agent.id, agentKey);
  sibling = await createChannel("Export sibling", "store", agent.id, agentKey);
  storeKey = await keyFor(store.id);
  siblingKey = await keyFor(sibling.id);
  // The order projection as the events consumer writes it, loaded straight into D1 (a customer ref with a comma,
  // a quote and Chinese, to check quoting and the BOM).
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
     INSERT INTO orders (id, channel_id, status, customer_ref, external_ref, currency, total_amount, quantity, items, failure_reason, created_at, updated_at)
     SELECT 'ord_exp' || printf('%06d', i), ?2, CASE WHEN i % 10 = 0 THEN 'refunded' ELSE 'fulfilled' END,
       CASE WHEN i % 7 = 0 THEN '张三, "VIP"' ELSE 'cus' || i END, NULL, 'CNY', 100 * (i % 50 + 1), 1 + i % 3,
       json_array(json_object('product_id', 'prd_export' || (i % 4), 'quantity', 1 + i % 3, 'amount', 100 * (i % 50 + 1))),
       NULL, 1767225600000 + i * 1000, 1767225600000 + i * 1000 FROM n`,
  )
    .bind(ORDERS, store.id)
    .run();
});

/** A job of the store's written straight into D1 (no queue message: the test delivers its own, or none). */
const storeJob = (id: string, status: "queued" | "running", now: number) => ({
  id,
  channel_id: store.id,
  scope_path: `/chn_root/${agent.id}/${store.id}/`,
  requested_by: "test",
  kind: "orders" as const,
  filter: "{}",
  status,
  rows: 0,
  total: null,
  parts: 0,
  cursor: null,
  error: null,
  created_at: now,
  updated_at: now,
  expires_at: now + 3600_000,
});

/** Every page of GET /v1/orders under `query`, as the CSV lines an export writes for them. */
async function listedAsCsv(query: string, token: string) {
  const rows: Parameters<typeof orderCells>[0][] = [];
  let cursor = "";
  for (;;) {
    const res = await call("GET", `/v1/orders?limit=100&${query}${cursor}`, undefined, { token });
    expect(res.status, res.text).toBe(200);
    rows.push(...res.json.data);
    if (!res.json.has_more) return csvLines([ORDER_COLUMNS, ...rows.map(orderCells)]);
    cursor = `&cursor=${res.json.next_cursor}`;
  }
}

async function finished(id: string, token: string) {
  const job = await eventually(
    () => call("GET", `/v1/exports/${id}`, undefined, { token }),
    (r) => r.json?.status === "done" || r.json?.status === "failed",
  );
  expect(job.json.status, job.text).toBe("done");
  return job.json;
}

describe("export jobs", () => {
  it("builds a large export in parts with progress, and its file is exactly what the list API shows", async () => {
    const asked = await call("POST", "/v1/exports", { kind: "orders", filter: {} }, { token: storeKey });
    expect(asked.status, asked.text).toBe(202);
    expect(asked.json).toMatchObject({ object: "export", status: "queued", rows: 0, file_url: null });
    expect(asked.headers.get("location")).toBe(`/v1/exports/${asked.json.id}`);
    const job = await finished(asked.json.id, storeKey);
    expect(job).toMatchObject({ rows: ORDERS, total: ORDERS, progress: 1, file_url: `/v1/exports/${job.id}/file` });
    const file = await call("GET", job.file_url, undefined, { token: storeKey });
    expect(file.status).toBe(200);
    expect(file.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(file.headers.get("content-disposition")).toMatch(/^attachment; filename="orders-.*\.csv"$/);
    // res.text() drops a BOM when it decodes: check the bytes themselves.
    const raw = await worker.fetch(
      new Request(`http://ve.test${job.file_url}`, { headers: { authorization: `Bearer ${storeKey}` } }),
      env,
      createExecutionContext(),
    );
    expect([...new Uint8Array(await raw.arrayBuffer()).slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(file.text.startsWith("id,created_at,")).toBe(true);
    expect(file.text).toContain('"张三, ""VIP"""');
    expect(file.text.split("\r\n")).toHaveLength(ORDERS + 2); // header, rows, the empty string after the last CRLF
    // The same rows as the API, in the same order (checked on a filtered slice to keep the paging short).
    const filter = { status: "refunded", product_id: "prd_export2", from: "2026-01-01T00:10:00Z" };
    const slice = await call("POST", "/v1/exports", { kind: "orders", filter }, { token: storeKey });
    const sliced = await finished(slice.json.id, storeKey);
    expect(sliced.filter).toEqual(filter);
    const text = (await call("GET", sliced.file_url, undefined, { token: storeKey })).text;
    expect(text).toBe(await listedAsCsv(new URLSearchParams(filter).toString(), storeKey));
    expect(sliced.rows).toBeGreaterThan(0);
  });

  it("writes every row once when messages are delivered twice, concurrently and again after the end", async () => {
    const now = Date.now();
    const id = `exp_dup${now}`;
    await insertExport(env.DB, storeJob(id, "queued", now));
    const deliver = async (n: number) => {
      const batch = createMessageBatch<ExportMessage>(
        "voucher-exports",
        Array.from({ length: n }, (_, i) => ({
          id: `m${i}`,
          timestamp: new Date(),
          attempts: 1,
          body: { export_id: id },
        })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch as unknown as MessageBatch<never>, env, ctx);
      return getQueueResult(batch, ctx);
    };
    await Promise.all([deliver(2), deliver(2), deliver(1)]);
    const job = await finished(id, storeKey);
    const after = await deliver(2);
    expect(after.explicitAcks).toHaveLength(2);
    expect((await call("GET", `/v1/exports/${id}`, undefined, { token: storeKey })).json.rows).toBe(ORDERS);
    const lines = (await call("GET", job.file_url, undefined, { token: storeKey })).text.split("\r\n").slice(1, -1);
    const ids = lines.map((l) => l.split(",")[0]);
    expect(ids).toHaveLength(ORDERS);
    expect(new Set(ids).size).toBe(ORDERS);
  });

  it("shows a job to its channel and the channels above, never to a sibling", async () => {
    const asked = await call(
      "POST",
      "/v1/exports",
      { kind: "redemptions", filter: { outcome: "failed" } },
      { token: storeKey },
    );
    expect(asked.status, asked.text).toBe(202);
    await finished(asked.json.id, storeKey);
    expect((await call("GET", `/v1/exports/${asked.json.id}`, undefined, { token: agentKey })).status).toBe(200);
    expect((await call("GET", `/v1/exports/${asked.json.id}`)).status).toBe(200);
    for (const path of [`/v1/exports/${asked.json.id}`, `/v1/exports/${asked.json.id}/file`]) {
      const res = await call("GET", path, undefined, { token: siblingKey });
      expect(res.status).toBe(404);
      expect(res.json.error.code).toBe("not_found");
    }
    const mine = await call("GET", "/v1/exports", undefined, { token: siblingKey });
    expect(mine.json.data).toEqual([]);
    const listed = await call("GET", "/v1/exports", undefined, { token: storeKey });
    expect(listed.json.data.map((j: { id: string }) => j.id)).toContain(asked.json.id);
    // The sibling's own export of orders sees none of the store's orders.
    const own = await call("POST", "/v1/exports", { kind: "orders", filter: {} }, { token: siblingKey });
    expect(await finished(own.json.id, siblingKey)).toMatchObject({ rows: 0, total: 0 });
  });

  it("answers bad requests with 4xx and the error shape, and a file not ready yet with 409", async () => {
    for (const body of [
      {},
      { kind: "codes" },
      { kind: "orders", filter: { status: "lost" } },
      { kind: "orders", filter: { colour: "red" } },
      { kind: "redemptions", filter: { outcome: "maybe" } },
      { kind: "orders", filter: { from: "yesterday" } },
    ]) {
      const res = await call("POST", "/v1/exports", body, { token: storeKey });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBeTypeOf("string");
    }
    expect((await call("GET", "/v1/exports/exp_unknown1")).status).toBe(404);
    expect((await call("GET", "/v1/exports/nope")).status).toBe(400);
    const now = Date.now();
    await insertExport(env.DB, storeJob(`exp_wait${now}`, "running", now));
    const early = await call("GET", `/v1/exports/exp_wait${now}/file`, undefined, { token: storeKey });
    expect(early.status).toBe(409);
    expect(early.json.error.code).toBe("export_not_ready");
  });
});
