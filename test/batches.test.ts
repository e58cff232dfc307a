import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { normalizeCode } from "../src/domain/code-format";
import { skuPool } from "../src/objects/sku-pool";
import { call, createProduct, eventually, generate, order } from "./helpers";

describe("code batches", () => {
  it("generates the default format with valid check characters", async () => {
    const p = await createProduct();
    await generate(p.id, 20);
    const res = await order([{ product_id: p.id, quantity: 20 }]);
    const codes: string[] = res.json.items[0].codes.map((c: any) => c.code);
    for (const code of codes) {
      expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$/);
      const verify = await call("POST", "/v1/codes/verify", { code });
      expect(verify.json.status).toBe("issued");
    }
    // Changing one check character makes it a guess, refused without a lookup.
    const flipped = codes[0].slice(0, -1) + (codes[0].endsWith("0") ? "1" : "0");
    expect((await call("POST", "/v1/codes/verify", { code: flipped })).status).toBe(404);
  });

  it("generates by a custom rule, with PINs for cards", async () => {
    const p = await createProduct({ kind: "card" });
    await generate(p.id, 5, {
      length: 16,
      charset: "digits",
      prefix: "GC",
      group_size: 4,
      separator: " ",
      pin_length: 6,
    });
    const res = await order([{ product_id: p.id, quantity: 5 }]);
    for (const c of res.json.items[0].codes) {
      expect(c.code).toMatch(/^GC \d{4} \d{4} \d{4} \d{4}$/);
      expect(c.pin).toMatch(/^\d{6}$/);
    }
    const weak = await call("POST", `/v1/products/${p.id}/batches`, {
      generate: { count: 5, length: 8, charset: "digits" },
    });
    expect(weak.status).toBe(422);
    expect(weak.json.error.code).toBe("weak_rule");
  });

  it("imports all-or-nothing, reporting bad and duplicate lines with numbers", async () => {
    const p = await createProduct();
    const first = await call("POST", `/v1/products/${p.id}/batches`, {
      import: { codes: [{ code: "IMPORT-0001-AAAA" }, { code: "import-0002-aaaa" }] },
    });
    expect(first.status).toBe(201);
    expect(first.json).toMatchObject({ status: "completed", total: 2 });
    const bad = await call("POST", `/v1/products/${p.id}/batches`, {
      import: {
        codes: [
          { code: "IMPORT-0003-AAAA" },
          { code: "import 0001 aaaa" },
          { code: "x!" },
          { code: "IMPORT-0003-aaaa" },
          { code: "IMPORT-0004-AAAA", pin: "1234" },
        ],
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.error.code).toBe("import_invalid");
    expect(bad.json.error.details.errors.map((e: any) => [e.line, e.error])).toEqual([
      [2, "duplicate_existing"],
      [3, "invalid_code"],
      [4, "duplicate_in_file"],
      [5, "pin_not_allowed"],
    ]);
    expect((await call("GET", `/v1/products/${p.id}/stock`)).json.total).toBe(2);
    // The same code in another product is a duplicate too: one code, one product.
    const other = await createProduct();
    const cross = await call("POST", `/v1/products/${other.id}/batches`, {
      import: { codes: [{ code: "IMPORT-0002-AAAA" }] },
    });
    expect(cross.json.error.details.errors[0].error).toBe("duplicate_existing");
  });

  it("takes a CSV upload with a header and PINs for cards", async () => {
    const p = await createProduct({ kind: "card" });
    const csv =
      "code,pin\r\n" +
      Array.from({ length: 300 }, (_, i) => `CARD${String(i).padStart(8, "0")},PIN${i}x`).join("\r\n") +
      "\r\n";
    const res = await call("POST", `/v1/products/${p.id}/batches`, undefined, {
      raw: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.total).toBe(300);
    const missing = await call("POST", `/v1/products/${p.id}/batches`, undefined, {
      raw: "code,pin\nCARD99999999,\n",
      headers: { "content-type": "text/csv" },
    });
    expect(missing.json.error.details.errors[0]).toMatchObject({ line: 2, error: "pin_required" });
  });

  it("imports fewer codes than the product has shards (empty shards are skipped)", async () => {
    const p = await createProduct({ shards: 3 });
    const res = await call("POST", `/v1/products/${p.id}/batches`, undefined, {
      raw: "00AA\r\n\r\n",
      headers: { "content-type": "text/csv" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.json.total).toBe(1);
    const stock = await call("GET", `/v1/products/${p.id}/stock`);
    expect(stock.json.available).toBe(1);
  });

  it("refuses an imported default-shaped code whose check characters are wrong", async () => {
    const p = await createProduct();
    const res = await call("POST", `/v1/products/${p.id}/batches`, {
      import: { codes: [{ code: "AAAA-BBBB-CCCC-DDDD" }] },
    });
    expect(res.json.error.details.errors[0].error).toBe("reserved_format");
  });

  it("runs a large batch as a job with progress and publishes it at once", async () => {
    const p = await createProduct();
    const started = await call("POST", `/v1/products/${p.id}/batches`, { generate: { count: 12_000 } });
    expect(started.status).toBe(202);
    expect(started.json).toMatchObject({ status: "running", total: 12_000, done: 0 });
    const ref = { productId: p.id, shard: 0 };
    const pool = skuPool(env, ref);
    // Codes stay invisible until the last chunk publishes the whole batch.
    const mid = await eventually(
      async () => {
        await runDurableObjectAlarm(pool);
        return (await call("GET", `/v1/batches/${started.json.id}`)).json;
      },
      (b) => b.done > 0,
      60_000,
    );
    expect(mid.done).toBeGreaterThan(0);
    // All or nothing: while the job runs nothing is sellable; once it completes, everything is.
    expect([0, 12_000]).toContain((await call("GET", `/v1/products/${p.id}/stock`)).json.available);
    const done = await eventually(
      async () => {
        await runDurableObjectAlarm(pool);
        return (await call("GET", `/v1/batches/${started.json.id}`)).json;
      },
      (b) => b.status === "completed",
      60_000,
    );
    expect(done).toMatchObject({ status: "completed", done: 12_000 });
    expect((await call("GET", `/v1/products/${p.id}/stock`)).json.available).toBe(12_000);
    const indexed = await env.DB.prepare("SELECT COUNT(*) AS n FROM code_index WHERE batch_id = ?1")
      .bind(started.json.id)
      .first<{ n: number }>();
    expect(indexed!.n).toBe(12_000);
  });

  it("holds no inventory for topup products", async () => {
    const p = await createProduct({ kind: "topup" });
    expect((await call("POST", `/v1/products/${p.id}/batches`, { generate: { count: 1 } })).json.error.code).toBe(
      "no_inventory",
    );
  });

  it("lists a product's batches newest first, by cursor, for the merchant only", async () => {
    const p = await createProduct();
    for (const count of [3, 4, 5]) await generate(p.id, count);
    const first = await call("GET", `/v1/products/${p.id}/batches?limit=2`);
    expect(first.status).toBe(200);
    expect(first.json.data.map((b: { total: number }) => b.total)).toEqual([5, 4]);
    expect(first.json.has_more).toBe(true);
    const rest = await call("GET", `/v1/products/${p.id}/batches?limit=2&cursor=${first.json.next_cursor}`);
    expect(rest.json.data.map((b: { total: number; status: string }) => [b.total, b.status])).toEqual([
      [3, "completed"],
    ]);
    const channel = await call("POST", "/v1/channels", { name: "Batch lister", type: "partner" });
    const key = (await call("POST", `/v1/channels/${channel.json.id}/keys`, {})).json.secret;
    expect((await call("GET", `/v1/products/${p.id}/batches`, undefined, { token: key })).status).toBe(404);
  });

  it("normalises what people type", () => {
    expect(normalizeCode(" abcd-efgh ijkl.mnoo ")).toBe("ABCDEFGH1JK1MN00");
  });
});
