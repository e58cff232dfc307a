import { describe, expect, it } from "vitest";
import { call } from "./helpers";

describe("CORS and headers", () => {
  it("answers preflights only for configured origins", async () => {
    const allowed = await call("OPTIONS", "/v1/public/redemptions", undefined, {
      token: null,
      headers: { origin: "http://localhost:3000", "access-control-request-method": "POST" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:3000");
    const other = await call("OPTIONS", "/v1/public/redemptions", undefined, {
      token: null,
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("sends security headers on every response", async () => {
    const res = await call("GET", "/v1/products");
    expect(res.headers.get("strict-transport-security")).toContain("max-age=");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});
