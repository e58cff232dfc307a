/**
 * The hosted consumer pages under a publishable key, `/pk/<key>/{buy,order,redeem}`: the static page with
 * `Content-Security-Policy: frame-ancestors` set to exactly the key's allowed origins (so only the merchant's
 * own sites can frame it through /widget.js, see docs/consumers.md), and those origins in a meta tag, where
 * the page's frame protocol reads whom it may talk to. Unknown or revoked keys get a 404 page.
 */
import { Hono } from "hono";
import type { AppEnv } from "../lib/context";
import { lookup } from "../lib/publishable-keys";

export const hostedPagesApp = new Hono<AppEnv>();

const PAGES = { buy: "/buy/", order: "/order/", redeem: "/redeem/" } as const;

/** The global page policy (public/_headers) with the frame ancestors of one key. */
const policy = (ancestors: string[]) =>
  [
    "default-src 'self'",
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "script-src 'self'",
    `frame-ancestors ${ancestors.length ? ancestors.join(" ") : "'none'"}`,
    "base-uri 'none'",
    "form-action 'self'",
  ].join("; ");

const escapeAttr = (s: string) => s.replace(/[&"<>]/g, (ch) => `&#${ch.charCodeAt(0)};`);

hostedPagesApp.get("/pk/:key/:page", async (c) => {
  const page = PAGES[c.req.param("page") as keyof typeof PAGES];
  const key = c.req.param("key");
  const auth =
    page && /^pk_[A-Za-z0-9_-]{10,60}$/.test(key)
      ? await lookup(c.env, key, Date.now(), (p) => c.executionCtx.waitUntil(p))
      : null;
  const headers = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "Cache-Control": "no-store",
  };
  if (!auth)
    return c.html(
      "<!doctype html><html lang=en><meta charset=utf-8><title>Not found</title><main><h1>This page does not exist</h1><p>The link is incomplete or the shop has turned it off. Open it again from the shop's page.</p></main>",
      404,
      { ...headers, "Content-Security-Policy": policy([]), "X-Frame-Options": "DENY" },
    );
  const asset = await c.env.ASSETS.fetch(new URL(page, c.req.url));
  const html = new HTMLRewriter()
    .on("head", {
      element(head) {
        head.append(`<meta name="ve-frame-origins" content="${escapeAttr(auth.origins.join(" "))}">`, { html: true });
      },
    })
    .transform(asset);
  return new Response(html.body, {
    status: asset.status,
    headers: {
      ...headers,
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": policy(auth.origins),
    },
  });
});
