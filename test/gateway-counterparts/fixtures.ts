/** Checkout and gateway fixtures for the tests (Workers side). Signing counterparts: see node.ts. */

import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import { allocate, createChannel, setEntry } from "../channel-fixtures";
import { call, idemKey } from "../helpers";

const E = env as unknown as Record<string, any>;
export const ORIGIN = "https://shop.example";
let ipSeq = 0;
/** A fresh client IP per call, so the per-IP public limit never throttles a test. */
export const freshIp = () => `10.${(++ipSeq >> 16) & 255}.${(ipSeq >> 8) & 255}.${ipSeq & 255}`;

/** Like helpers.call, with optional overrides of the Worker's env (e.g. a short CHECKOUT_HOLD_SECONDS). */
export async function callEnv(
  method: string,
  path: string,
  opts: {
    token?: string | null;
    headers?: Record<string, string>;
    body?: unknown;
    raw?: string;
    env?: Record<string, unknown>;
  } = {},
) {
  const headers: Record<string, string> = { "cf-connecting-ip": freshIp(), ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let payload = opts.raw;
  if (opts.body !== undefined) {
    headers["content-type"] ??= "application/json";
    payload = JSON.stringify(opts.body);
  }
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`http://ve.test${path}`, { method, headers, body: payload }),
    { ...env, ...(opts.env ?? {}) } as Env,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, text, headers: res.headers };
}

export async function publishableKey(channelId = "chn_root", origins = [ORIGIN], token?: string) {
  const res = await call(
    "POST",
    `/v1/channels/${channelId}/keys`,
    { type: "publishable", allowed_origins: origins },
    { token },
  );
  if (res.status !== 201) throw new Error(`publishableKey: ${res.status} ${res.text}`);
  return res.json.secret as string;
}

export async function checkout(
  pk: string,
  items: { product_id: string; quantity: number }[],
  gateway = "sandbox",
  o: {
    key?: string;
    origin?: string | null;
    env?: Record<string, unknown>;
    customer_ref?: string;
    body?: Record<string, unknown>;
  } = {},
) {
  const headers: Record<string, string> = { "idempotency-key": o.key ?? idemKey("co") };
  if (o.origin !== null) headers.origin = o.origin ?? ORIGIN;
  return callEnv("POST", "/v1/checkout", {
    token: pk,
    headers,
    body: { items, gateway, ...(o.customer_ref ? { customer_ref: o.customer_ref } : {}), ...(o.body ?? {}) },
    env: o.env,
  });
}

export const checkoutStatus = (pk: string, orderId: string, secret: string) =>
  callEnv("GET", `/v1/checkout/${orderId}?client_secret=${encodeURIComponent(secret)}`, {
    token: pk,
    headers: { origin: ORIGIN },
  });

export const notify = (
  gateway: string,
  raw: string,
  headers: Record<string, string>,
  contentType = "application/json",
) =>
  callEnv("POST", `/v1/public/payments/${gateway}/notify`, {
    raw,
    headers: { "content-type": contentType, ...headers },
  });

const hex = (b: ArrayBuffer) => Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const b64 = (b: ArrayBuffer | Uint8Array) => btoa(String.fromCharCode(...new Uint8Array(b)));

/** The payment a sandbox notice reports for a checkout, as the gateway would: its order, payment id and amount. */
export const paidData = (co: any) => ({
  order_id: co.order_id,
  payment_id: co.payment.payment_id,
  amount: co.amount,
  currency: co.currency,
});

export async function sandboxNotice(
  data: { order_id: string; payment_id: string; amount: number; currency: string },
  o: { id?: string; type?: string; secret?: string; t?: number } = {},
) {
  const body = JSON.stringify({ id: o.id ?? `ntc_${crypto.randomUUID()}`, type: o.type ?? "payment.succeeded", data });
  const t = o.t ?? Math.floor(Date.now() / 1000);
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(o.secret ?? E.SANDBOX_GATEWAY_SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = hex(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${t}.${body}`)));
  return { body, headers: { "Sandbox-Signature": `t=${t},v1=${sig}` } };
}

/** A Stripe event signed by the stripe SDK (in Node). */
export async function stripeNotice(event: Record<string, unknown>, timestamp?: number) {
  const payload = JSON.stringify(event);
  const res = await E.GATEWAY_COUNTERPARTS.fetch("http://counterparts/stripe/sign", {
    method: "POST",
    body: JSON.stringify({ payload, timestamp }),
  });
  if (!res.ok) throw new Error(`stripe counterpart: ${res.status}`);
  return { body: payload, headers: { "Stripe-Signature": ((await res.json()) as { header: string }).header } };
}

export const paymentIntentSucceeded = (
  orderId: string,
  amount: number,
  currency: string,
  id = `evt_${crypto.randomUUID().replace(/-/g, "")}`,
) => ({
  id,
  object: "event",
  type: "payment_intent.succeeded",
  api_version: "2025-01-27",
  created: Math.floor(Date.now() / 1000),
  data: {
    object: {
      id: `pi_3Test${orderId.slice(-10)}`,
      object: "payment_intent",
      amount,
      amount_received: amount,
      currency: currency.toLowerCase(),
      status: "succeeded",
      metadata: { order_id: orderId },
    },
  },
});

/** An Alipay notice signed as Alipay signs it and accepted by alipay-sdk (in Node). */
/** An Alipay notice for our app (app_id defaults to ALIPAY_APP_ID), signed by the counterpart. */
export async function alipayNotice(fields: Record<string, string>) {
  const params = { app_id: E.ALIPAY_APP_ID, ...fields };
  const res = await E.GATEWAY_COUNTERPARTS.fetch("http://counterparts/alipay/sign", {
    method: "POST",
    body: JSON.stringify({ params }),
  });
  if (!res.ok) throw new Error(`alipay counterpart: ${res.status} ${await res.text()}`);
  const signed = ((await res.json()) as { params: Record<string, string> }).params;
  return { params: signed, body: new URLSearchParams(signed).toString() };
}

export async function alipaySdkAccepts(params: Record<string, string>): Promise<boolean> {
  const res = await E.GATEWAY_COUNTERPARTS.fetch("http://counterparts/alipay/check", {
    method: "POST",
    body: JSON.stringify({ params }),
  });
  return ((await res.json()) as { ok: boolean }).ok;
}

function pemBody(pem: string): Uint8Array {
  return Uint8Array.from(atob(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "")), (c) => c.charCodeAt(0));
}

/** A WeChat Pay v3 notice built as WeChat Pay documents it: AES-256-GCM resource, RSA-SHA256 signature. */
export async function wechatNotice(
  tx: Record<string, unknown>,
  o: { id?: string; eventType?: string; timestamp?: number; apiKey?: string } = {},
) {
  const nonce = crypto.randomUUID().replace(/-/g, "").slice(0, 12);
  const aad = "transaction";
  const aes = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(o.apiKey ?? E.WECHATPAY_API_V3_KEY),
    "AES-GCM",
    false,
    ["encrypt"],
  );
  const sealed = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: new TextEncoder().encode(nonce),
      additionalData: new TextEncoder().encode(aad),
      tagLength: 128,
    },
    aes,
    new TextEncoder().encode(JSON.stringify(tx)),
  );
  const body = JSON.stringify({
    id: o.id ?? crypto.randomUUID(),
    create_time: new Date().toISOString(),
    resource_type: "encrypt-resource",
    event_type: o.eventType ?? "TRANSACTION.SUCCESS",
    summary: "支付成功",
    resource: {
      original_type: "transaction",
      algorithm: "AEAD_AES_256_GCM",
      ciphertext: b64(sealed),
      associated_data: aad,
      nonce,
    },
  });
  const timestamp = String(o.timestamp ?? Math.floor(Date.now() / 1000));
  const headerNonce = crypto.randomUUID().replace(/-/g, "");
  const rsa = await crypto.subtle.importKey(
    "pkcs8",
    pemBody(E.TEST_WECHATPAY_PRIVATE_KEY),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = b64(
    await crypto.subtle.sign(
      "RSASSA-PKCS1-v1_5",
      rsa,
      new TextEncoder().encode(`${timestamp}\n${headerNonce}\n${body}\n`),
    ),
  );
  return {
    body,
    headers: {
      "Wechatpay-Timestamp": timestamp,
      "Wechatpay-Nonce": headerNonce,
      "Wechatpay-Signature": signature,
      "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A7232F1B8E1",
    },
  };
}

export async function stockOf(productId: string) {
  const res = await call("GET", `/v1/products/${productId}/stock`);
  return res.json as {
    total: number;
    available: number;
    held: number;
    issued: number;
    redeemed: number;
    voided: number;
  };
}

export async function noticesOf(orderId: string) {
  const { results } = await env.DB.prepare(
    "SELECT gateway, notice_id, outcome, deliveries, amount, currency FROM payment_notices WHERE order_id = ?1 ORDER BY received_at",
  )
    .bind(orderId)
    .all<any>();
  return results;
}

/** How many events a channel's ChannelAccount has written so far (its outbox sequence): counts order.* events exactly. */
export async function eventCount(channelId: string): Promise<number> {
  const stub = env.CHANNEL_ACCOUNT.get(env.CHANNEL_ACCOUNT.idFromName(channelId));
  return runInDurableObject(
    stub,
    (_instance, state) =>
      state.storage.sql
        .exec<{ v: number }>(
          "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'outbox_seq'), 0) AS v",
        )
        .one().v,
  );
}

/** A fresh child channel selling `productId` at its list price, with `quota` codes of it and a publishable key. */
export async function shopChannel(productId: string, quota: number) {
  const ch = await createChannel(`shop ${freshIp()}`, "own_store");
  const entry = await setEntry(ch.id, productId, {});
  if (entry.status >= 300) throw new Error(`setEntry: ${entry.status} ${entry.text}`);
  const alloc = await allocate(productId, ch.id, quota);
  if (alloc.status >= 300) throw new Error(`allocate: ${alloc.status} ${alloc.text}`);
  return { id: ch.id, pk: await publishableKey(ch.id) };
}
