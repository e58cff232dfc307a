import { availableParallelism } from "node:os";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig, defineProject } from "vitest/config";
// @ts-expect-error a plain .mjs script without types
import { startFakeProvider } from "./scripts/fake-topup-provider.mjs";
import { gatewayCounterparts } from "./test/gateway-counterparts/node";
import { startWebhookReceiver } from "./test/servers/webhook-receiver";
import { configureWechatFake } from "./test/servers/wechatpay-fake";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  // Payment gateway test secrets and the SDK counterparts that sign notices (Node): see test/gateway-counterparts/node.ts.
  const gatewaysForTests = gatewayCounterparts();
  // A real HTTP receiver for webhook deliveries (Node, 127.0.0.1, random port): see test/servers/webhook-receiver.ts.
  const receiver = await startWebhookReceiver();
  configureWechatFake(gatewaysForTests.wechatFake); // WeChat Pay's H5 endpoint, on the same server
  // The fake top-up provider (Node, 127.0.0.1, random port), reached by the Worker over real HTTP: see docs/topup.md.
  const topupSecret = "test-topup-provider-secret-0123456789";
  const topupProvider = await startFakeProvider({ secret: topupSecret, unref: true });
  const workers = defineProject({
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          serviceBindings: { GATEWAY_COUNTERPARTS: gatewaysForTests.handler },
          bindings: {
            TEST_MIGRATIONS: migrations,
            ADMIN_TOKEN: "test-admin-token-0123456789abcdef",
            CODE_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
            CODE_HMAC_KEY: "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4",
            SESSION_SECRET: "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8",
            ...gatewaysForTests.bindings,
            WEBHOOK_TEST_RECEIVER: receiver.url,
            WECHATPAY_API_BASE: receiver.url, // the fake H5 endpoint (test/servers/wechatpay-fake.ts)
            TURNSTILE_VERIFY_URL: `${receiver.url}/turnstile/v0/siteverify`, // the fake siteverify (same server)
            WEBHOOK_BACKOFF_SCALE: "0.00004", // retry delays of 0–1 s instead of 10 s … 7 h
            WEBHOOK_TIMEOUT_MS: "2000",
            TOPUP_PROVIDER_URL: topupProvider.url,
            TOPUP_PROVIDER_SECRET: topupSecret,
            TOPUP_RETRY_DELAY_SCALE: "0", // retries at once instead of 10 s … 30 min
          },
        },
      }),
    ],
    test: {
      name: "workers",
      include: ["test/**/*.test.ts"],
      exclude: ["test/browser/**"],
      setupFiles: ["./test/setup.ts"],
      testTimeout: 60_000,
      hookTimeout: 60_000,
    },
  });
  // The console in headless Chromium against one real runtime (wrangler dev), files one after another.
  const browser = defineProject({
    test: {
      name: "browser",
      include: ["test/browser/**/*.test.ts"],
      environment: "node",
      globalSetup: ["./test/browser/global-setup.ts"],
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 120_000,
      // expect.poll waits for state the server reaches through its queues (a code's index, stock after a
      // batch): 1 s by default is shorter than one events-queue batch wait under load. This only bounds a failure.
      expect: { poll: { timeout: 30_000, interval: 100 } },
    },
  });
  return {
    test: {
      projects: [workers, browser],
      // Many tests wait on queues and alarms rather than the CPU: two files at a time even on two cores
      // (vitest's default would run one) brings the suite from about 5 to about 3 minutes.
      maxWorkers: Math.max(2, availableParallelism() - 1),
    },
  };
});
