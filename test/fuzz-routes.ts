/**
 * The fuzz suite's route table, by area (test/fuzz-routes-*.ts), in the order the properties run:
 * the state each route meets (products created, keys and webhooks deleted) depends on it.
 * test/fuzz-coverage.test.ts checks that it names every operation of the app and nothing else.
 */
import fc from "fast-check";
import type { RouteSpec } from "./fuzz-inputs";
import { adminRoutes, catalogRoutes } from "./fuzz-routes-catalog";
import { channelRoutes } from "./fuzz-routes-channels";
import { codeRoutes, publicCodeRoutes } from "./fuzz-routes-codes";
import { consoleRoutes } from "./fuzz-routes-console";
import { ledgerRoutes } from "./fuzz-routes-ledger";
import { paymentRoutes } from "./fuzz-routes-payments";
import { webhookRoutes } from "./fuzz-routes-webhooks";

/** The spec itself: public, no body, any query. */
const specRoutes: RouteSpec[] = [
  { name: "GET /v1/openapi.json", method: "GET", path: () => fc.constant("/v1/openapi.json"), runs: 20 },
];

export const ROUTES: RouteSpec[] = [
  ...catalogRoutes,
  ...codeRoutes,
  ...channelRoutes,
  ...consoleRoutes,
  ...ledgerRoutes,
  ...paymentRoutes,
  ...webhookRoutes,
  // Added after the others, so that those meet the same state as before.
  ...publicCodeRoutes,
  ...adminRoutes,
  ...specRoutes,
];
