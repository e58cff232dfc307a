/**
 * WeChat Pay's H5 order endpoint as the tests' counterpart (served by webhook-receiver.ts, Node):
 * `POST /v3/pay/transactions/h5` checks the merchant's `Authorization: WECHATPAY2-SHA256-RSA2048 …` header (RSA-SHA256
 * of `POST\n<path>\n<timestamp>\n<nonce>\n<body>\n` with the merchant's public key, timestamp within 5 minutes, our
 * mchid) and the body's required fields, then answers `{"h5_url"}` signed with the platform key in Wechatpay-*
 * headers, or WeChat's error shape `{"code", "message"}`. `GET /_wechat/requests` lists the orders it took;
 * `POST /_wechat/control {ip, fail_next, unsigned_next}` makes the next answers for that payer IP a 500 or unsigned
 * (per IP, so test files running at once cannot trip each other).
 */
import { createSign, createVerify, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

interface Keys {
  mchId: string;
  merchantPublicKey: string;
  platformPrivateKey: string;
  platformSerial: string;
}
let keys: Keys | null = null;
const taken: Record<string, unknown>[] = [];
const faults = new Map<string, { failNext: number; unsignedNext: number }>();
const faultsOf = (ip: string) => {
  let f = faults.get(ip);
  if (!f) {
    f = { failNext: 0, unsignedNext: 0 };
    faults.set(ip, f);
  }
  return f;
};

export const configureWechatFake = (k: Keys) => {
  keys = k;
};

function send(res: ServerResponse, status: number, body: unknown, signed = true): true {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signed && keys) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomBytes(16).toString("hex");
    const signature = createSign("RSA-SHA256")
      .update(`${timestamp}\n${nonce}\n${text}\n`)
      .sign(keys.platformPrivateKey, "base64");
    Object.assign(headers, {
      "wechatpay-timestamp": timestamp,
      "wechatpay-nonce": nonce,
      "wechatpay-signature": signature,
      "wechatpay-serial": keys.platformSerial,
    });
  }
  res.writeHead(status, headers).end(text);
  return true;
}

const fields = (header: string) =>
  Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]])) as Record<string, string>;

/** Answers the fake's paths; false when the path is not its own. */
export function wechatFake(
  method: string,
  path: string,
  headers: Record<string, unknown>,
  raw: string,
  res: ServerResponse,
) {
  if (path === "/_wechat/requests") return send(res, 200, { requests: taken }, false);
  if (path === "/_wechat/control") {
    const cfg = JSON.parse(raw || "{}");
    const f = faultsOf(String(cfg.ip));
    f.failNext = Number(cfg.fail_next ?? f.failNext);
    f.unsignedNext = Number(cfg.unsigned_next ?? f.unsignedNext);
    return send(res, 200, { ok: true }, false);
  }
  if (path !== "/v3/pay/transactions/h5" || method !== "POST") return false;
  if (!keys) return send(res, 500, { code: "SYSTEM_ERROR", message: "fake not configured" });
  const auth = String(headers.authorization ?? "");
  const a = fields(auth);
  const verified =
    auth.startsWith("WECHATPAY2-SHA256-RSA2048 ") &&
    a.mchid === keys.mchId &&
    Math.abs(Date.now() / 1000 - Number(a.timestamp)) <= 300 &&
    createVerify("RSA-SHA256")
      .update(`POST\n${path}\n${a.timestamp}\n${a.nonce_str}\n${raw}\n`)
      .verify(keys.merchantPublicKey, a.signature ?? "", "base64");
  if (!verified) return send(res, 401, { code: "SIGN_ERROR", message: "签名错误" });
  const body = JSON.parse(raw) as Record<string, any>;
  const f = faultsOf(String(body.scene_info?.payer_client_ip));
  if (f.failNext > 0) {
    f.failNext--;
    return send(res, 500, { code: "SYSTEM_ERROR", message: "系统错误" });
  }
  const ok =
    typeof body.appid === "string" &&
    body.mchid === keys.mchId &&
    typeof body.out_trade_no === "string" &&
    /^https:\/\/|^http:\/\//.test(body.notify_url ?? "") &&
    Number.isInteger(body.amount?.total) &&
    body.scene_info?.h5_info?.type === "Wap" &&
    typeof body.scene_info?.payer_client_ip === "string";
  if (!ok) return send(res, 400, { code: "PARAM_ERROR", message: "参数错误" });
  taken.push(body);
  const h5 = `https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx${randomBytes(12).toString("hex")}&package=${randomBytes(4).readUInt32BE()}`;
  const signed = f.unsignedNext <= 0;
  if (!signed) f.unsignedNext--;
  return send(res, 200, { h5_url: h5 }, signed);
}
