/** Interactive API docs at /docs: Swagger UI served from our own assets (no CDN), reading /v1/openapi.json. */
import { Hono } from "hono";
import type { AppEnv } from "../lib/context";

export const docsApp = new Hono<AppEnv>();

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Voucher Edge API</title><link rel="stylesheet" href="/vendor/swagger-ui/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/docs.js"></script></body></html>`;

docsApp.get("/docs", (c) => {
  c.header(
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  );
  return c.html(page);
});
