/** After a realistic workload, no plaintext code or PIN is anywhere in D1 or in any Durable Object's storage. */

import { listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createProduct, generate, order } from "./helpers";
import { eventsDrained } from "./pipeline-fixtures";

async function dumpD1(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  let out = "";
  for (const { name } of tables.results)
    out += JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
  return out;
}

async function dumpObjects(ns: DurableObjectNamespace): Promise<string> {
  let out = "";
  for (const id of await listDurableObjectIds(ns)) {
    out += await runInDurableObject(ns.get(id) as DurableObjectStub, (_o: unknown, state: DurableObjectState) => {
      const sql = state.storage.sql;
      const tables = sql
        .exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
        )
        .toArray();
      return tables.map((t) => JSON.stringify(sql.exec(`SELECT * FROM "${t.name}"`).toArray())).join("");
    });
  }
  return out;
}

describe("no plaintext at rest", () => {
  it("finds no code or PIN in D1 or Durable Object storage after a workload", async () => {
    const secrets: string[] = [];
    const codes = await createProduct();
    await generate(codes.id, 30);
    const cards = await createProduct({ kind: "card" });
    await generate(cards.id, 10);
    const imported = await createProduct();
    const importedCodes = Array.from({ length: 10 }, (_, i) => `IMPSECRET${i}X${Date.now() % 1000}`);
    await call("POST", `/v1/products/${imported.id}/batches`, {
      import: { codes: importedCodes.map((code) => ({ code })) },
    });
    const sold = await order(
      [
        { product_id: codes.id, quantity: 10 },
        { product_id: cards.id, quantity: 5 },
        { product_id: imported.id, quantity: 5 },
      ],
      { customer_ref: "scan" },
    );
    expect(sold.status).toBe(201);
    for (const item of sold.json.items)
      for (const c of item.codes) secrets.push(c.code, c.code.replace(/[- ]/g, ""), ...(c.pin ? [c.pin] : []));
    for (const c of sold.json.items[0].codes.slice(0, 5)) await call("POST", "/v1/redemptions", { code: c.code });
    for (const c of sold.json.items[1].codes.slice(0, 2))
      await call("POST", "/v1/redemptions", { code: c.code, pin: c.pin });
    await call("POST", "/v1/redemptions", { code: sold.json.items[1].codes[3].code, pin: "00000000" });
    secrets.push(...importedCodes);
    // Scan once the objects' outboxes are flushed and the consumer has written every projection of this workload.
    await eventsDrained();

    const everything =
      (await dumpD1()) +
      (await dumpObjects(env.SKU_POOL as unknown as DurableObjectNamespace)) +
      (await dumpObjects(env.CHANNEL_ACCOUNT as unknown as DurableObjectNamespace));
    expect(everything.length).toBeGreaterThan(10_000);
    for (const s of secrets) expect(everything.includes(s), `found ${s.slice(0, 3)}… in storage`).toBe(false);
    expect(everything).not.toContain(env.ADMIN_TOKEN);
  });
});
