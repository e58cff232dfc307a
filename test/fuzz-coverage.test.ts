/**
 * The fuzz suite cannot miss a route: its table (test/fuzz-routes.ts) must name every operation the
 * app documents (GET /v1/openapi.json) or serves (its router), and nothing the app does not have.
 * No fixtures needed: only the table's names and the app itself.
 */
import { describe, expect, it } from "vitest";
import { operationOf } from "./fuzz-inputs";
import { ROUTES } from "./fuzz-routes";
import { documentedOperations, servedOperations } from "./operations";

describe("fuzz coverage", () => {
  it("every operation of the app has a fuzz entry, and every fuzz entry names an operation", async () => {
    const operations = new Set([...(await documentedOperations()).map((o) => o.key), ...servedOperations()]);
    const fuzzed = new Set(ROUTES.map(operationOf));
    const withoutFuzzEntry = [...operations].filter((op) => !fuzzed.has(op)).sort();
    const namingNoOperation = [...fuzzed].filter((op) => !operations.has(op)).sort();
    expect({ withoutFuzzEntry, namingNoOperation }).toEqual({ withoutFuzzEntry: [], namingNoOperation: [] });
  });

  it("fuzz entry names are unique (each is a test name and a key of the status statistics)", () => {
    const names = ROUTES.map((r) => r.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });
});
