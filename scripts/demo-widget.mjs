#!/usr/bin/env node
// npm run demo:widget (with `npm start` running): a merchant's page on a second local origin,
// http://localhost:8791, embedding the widget from http://127.0.0.1:8787. It creates a publishable key of the
// merchant's own channel that allows exactly that origin, then serves the copy-paste snippet of
// docs/consumers.md. Ctrl-C stops it.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const API = process.env.VE_BASE ?? "http://127.0.0.1:8787";
const PORT = Number(process.env.DEMO_PORT ?? 8791);
const ORIGIN = `http://localhost:${PORT}`;
const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(".dev.vars", "utf8"))?.[1]?.trim();
if (!token) throw new Error("demo:widget: no ADMIN_TOKEN in .dev.vars; run `npm start` first");

const res = await fetch(`${API}/v1/channels/chn_root/keys`, {
  method: "POST",
  headers: {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
    "idempotency-key": crypto.randomUUID(),
  },
  body: JSON.stringify({ type: "publishable", name: "widget demo", allowed_origins: [ORIGIN] }),
});
if (res.status !== 201) throw new Error(`demo:widget: creating the key failed: ${res.status} ${await res.text()}`);
const pk = (await res.json()).secret;

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo merchant</title>
<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:1rem}</style></head>
<body><main>
<h1>Demo merchant (${ORIGIN})</h1>
<h2>Buy</h2>
<ve-buy key="${pk}"></ve-buy>
<h2>Redeem</h2>
<ve-redeem key="${pk}" lang="en"></ve-redeem>
<h2>Find an order</h2>
<ve-order key="${pk}"></ve-order>
<script src="${API}/widget.js" async></script>
<script>
  document.addEventListener("ve-paid", (e) => console.log("paid", e.detail.order_id));
  document.addEventListener("ve-redeemed", (e) => console.log("redeemed", e.detail.product_id));
</script>
</main></body></html>`;

createServer((_req, reply) => {
  reply.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  reply.end(page);
}).listen(PORT, "127.0.0.1", () => {
  console.log(`demo:widget: ${ORIGIN} embeds the widget from ${API} with ${pk.slice(0, 11)}… (Ctrl-C stops)`);
});
