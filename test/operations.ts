/**
 * The app's operations, read from the app itself rather than listed by hand: the OpenAPI document
 * it serves (GET /v1/openapi.json) and the routes its router holds (`app.routes`). Used by the
 * public-routes check and by the fuzz coverage check.
 */
import { app } from "../src/app";
import { call } from "./helpers";

/** `METHOD /v1/path` with OpenAPI `{param}`s, e.g. "POST /v1/products/{id}/batches". */
export type OperationKey = string;

export interface DocumentedOperation {
  key: OperationKey;
  /** The operation's own `security`, or the document's default when it has none. */
  security: Record<string, string[]>[];
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** Every operation of the served OpenAPI document. */
export async function documentedOperations(): Promise<DocumentedOperation[]> {
  const res = await call("GET", "/v1/openapi.json", undefined, { token: null });
  if (res.status !== 200) throw new Error(`GET /v1/openapi.json: ${res.status} ${res.text}`);
  const doc = res.json as {
    security?: Record<string, string[]>[];
    paths: Record<string, Record<string, { security?: Record<string, string[]>[] }>>;
  };
  const out: DocumentedOperation[] = [];
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (op) out.push({ key: `${method.toUpperCase()} ${path}`, security: op.security ?? doc.security ?? [] });
    }
  return out;
}

/** Every /v1 route the app's router serves (handlers, not middleware), as operation keys. */
export function servedOperations(): OperationKey[] {
  const keys = app.routes
    .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, "{$1}")}`);
  return [...new Set(keys)].sort();
}

/** A concrete request path for an operation's path: each `{param}` becomes a plausible id. */
export const samplePath = (path: string) => path.replace(/\{[^}]+\}/g, "x1");
