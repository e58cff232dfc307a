/**
 * Public routes are declared once (src/lib/public-routes.ts): this checks the list against what the
 * app really documents and serves, so the OpenAPI `security` of an operation, the middleware that
 * skips the API key (isPublicPath) and the list cannot drift apart.
 */
import { describe, expect, it } from "vitest";
import {
  API_KEY_SCHEME,
  isPublicPath,
  PUBLIC_OPERATIONS,
  type PublicOperationKey,
  publicSecurity,
} from "../src/lib/public-routes";
import { call } from "./helpers";
import { documentedOperations, samplePath, servedOperations } from "./operations";

const listed = (key: string): key is PublicOperationKey => Object.hasOwn(PUBLIC_OPERATIONS, key);
const pathOf = (key: string) => key.slice(key.indexOf(" ") + 1);

describe("public routes: one list, the OpenAPI document and the middleware agree", () => {
  it("an operation documents no API key exactly when it is listed, with the security the list gives it", async () => {
    const problems: string[] = [];
    for (const { key, security } of await documentedOperations()) {
      const withoutApiKey = !security.some((requirement) => API_KEY_SCHEME in requirement);
      if (withoutApiKey && !listed(key)) problems.push(`${key} documents no API key but is not in PUBLIC_OPERATIONS`);
      if (!listed(key)) continue;
      if (!withoutApiKey) problems.push(`${key} is in PUBLIC_OPERATIONS but documents the API key`);
      if (PUBLIC_OPERATIONS[key].documented === false)
        problems.push(`${key} is in the OpenAPI document but listed as undocumented`);
      if (JSON.stringify(security) !== JSON.stringify(publicSecurity(key)))
        problems.push(
          `${key} documents security ${JSON.stringify(security)}, the list says ${JSON.stringify(publicSecurity(key))}`,
        );
    }
    expect(problems).toEqual([]);
  });

  it("every listed operation is served, and is in the document unless listed as undocumented", async () => {
    const served = new Set(servedOperations());
    const documented = new Set((await documentedOperations()).map((o) => o.key));
    const problems: string[] = [];
    for (const [key, op] of Object.entries(PUBLIC_OPERATIONS) as [PublicOperationKey, { documented?: false }][]) {
      if (!served.has(key)) problems.push(`${key} is in PUBLIC_OPERATIONS but the app serves no such route`);
      if (op.documented !== false && !documented.has(key)) problems.push(`${key} is not in the OpenAPI document`);
    }
    expect(problems).toEqual([]);
  });

  it("every route the app serves is documented, or listed as a public undocumented route", async () => {
    const documented = new Set((await documentedOperations()).map((o) => o.key));
    const hidden = servedOperations().filter(
      (key) => !documented.has(key) && !(listed(key) && PUBLIC_OPERATIONS[key].documented === false),
    );
    expect(hidden).toEqual([]);
  });

  it("the middleware skips the API key on exactly the listed operations' paths", () => {
    const problems = servedOperations()
      .filter((key) => isPublicPath(samplePath(pathOf(key))) !== listed(key))
      .map((key) => `${key}: isPublicPath says ${isPublicPath(samplePath(pathOf(key)))}, the list ${listed(key)}`);
    expect(problems).toEqual([]);
  });

  it("without credentials, every other operation answers 401 for the API key and no listed one does", async () => {
    const problems: string[] = [];
    for (const key of servedOperations()) {
      const [method, path] = [key.slice(0, key.indexOf(" ")), samplePath(pathOf(key))];
      const res = await call(method, path, undefined, { token: null });
      const askedForApiKey = res.status === 401 && /api key/i.test(res.json?.error?.message ?? "");
      if (askedForApiKey === listed(key)) problems.push(`${key} → ${res.status} ${res.text.slice(0, 200)}`);
    }
    expect(problems).toEqual([]);
  });
});
