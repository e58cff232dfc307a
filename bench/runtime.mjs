// A fresh local runtime for the benchmark: temp persist dir, fresh secrets, D1 migrations,
// `wrangler dev` in its own process group (setsid), and a stop() that ends the whole group.
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "..");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const OFFLINE_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  NO_COLOR: "1",
  FORCE_COLOR: "0",
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** What `wrangler dev` needs to build and serve the Worker, copied from the working tree. */
const SNAPSHOT = [
  "src",
  "public",
  "migrations",
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
  "worker-configuration.d.ts",
];

/**
 * Copies the Worker's sources into `dir/app`. `wrangler dev` watches its sources and restarts the
 * Worker when a file changes (answering 503 "Your worker restarted mid-request" meanwhile), so the
 * bench runs a copy: edits made in the working tree during a run cannot disturb it.
 */
function snapshot(dir) {
  const app = join(dir, "app");
  for (const name of SNAPSHOT) {
    if (existsSync(join(ROOT, name))) cpSync(join(ROOT, name), join(app, name), { recursive: true });
  }
  symlinkSync(join(ROOT, "node_modules"), join(app, "node_modules"), "dir");
  return app;
}

/** More variables for the runtime (a PEM's newlines written as `\n`, which the gateways read back). */
const envLines = (extra) =>
  Object.entries(extra)
    .map(([k, v]) => `${k}="${String(v).replace(/\r?\n/g, "\\n")}"\n`)
    .join("");

/**
 * Creates the fresh state and starts `wrangler dev`. Returns { base, adminToken, sandboxSecret, pgid, dir, stop }.
 * `stop()` is idempotent and always ends the whole process group (SIGTERM, then SIGKILL).
 */
export async function startRuntime({ log = console.error, keep = false, onHandle, beforeStart, extraEnv = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "voucher-bench-"));
  const persist = join(dir, "state");
  const envFile = join(dir, "bench.env");
  const b64url = (n) => randomBytes(n).toString("base64url");
  const adminToken = `vat_${b64url(32)}`;
  // The sandbox gateway's secret: the bench signs its own sandbox payment notices with it.
  const sandboxSecret = b64url(32);
  // An explicit --env-file makes wrangler skip .dev.vars, so the developer's secrets are untouched.
  writeFileSync(
    envFile,
    `ADMIN_TOKEN=${adminToken}\nCODE_ENCRYPTION_KEY=${b64url(32)}\nCODE_HMAC_KEY=${b64url(32)}\nSANDBOX_GATEWAY_SECRET=${sandboxSecret}\nSESSION_SECRET=${b64url(32)}\n${envLines(extraEnv)}`,
    { mode: 0o600 },
  );

  let child = null;
  let pgid = null;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (pgid !== null && groupAlive(pgid)) {
      try {
        process.kill(-pgid, "SIGTERM");
      } catch {
        /* gone */
      }
      for (let i = 0; i < 30 && groupAlive(pgid); i++) await sleep(100);
      if (groupAlive(pgid)) {
        try {
          process.kill(-pgid, "SIGKILL");
        } catch {
          /* gone */
        }
        for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
      }
    }
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  /** Last resort for process.on("exit"): synchronous, no waiting. */
  const killNow = () => {
    if (pgid !== null)
      try {
        process.kill(-pgid, "SIGKILL");
      } catch {
        /* gone */
      }
  };
  // Handed out before anything starts, so a Ctrl-C during start-up can still clean up.
  onHandle?.({
    get pgid() {
      return pgid;
    },
    stop,
    killNow,
  });

  try {
    const t0 = Date.now();
    const app = snapshot(dir);
    execFileSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist], {
      cwd: app,
      env: OFFLINE_ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
    log(`bench: D1 migrations applied into ${persist} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    // A caller may load data straight into the fresh D1 before the Worker starts (e.g. months of roll-ups).
    if (beforeStart) await beforeStart({ app, persist, wrangler: WRANGLER, env: OFFLINE_ENV });

    const port = await freePort();
    const logFile = join(dir, "wrangler.log");
    const out = createWriteStream(logFile);
    // setsid (not a group leader here, so it does not fork): the child's pid is its process group id.
    child = spawn(
      "setsid",
      [
        WRANGLER,
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        persist,
        "--env-file",
        envFile,
        "--log-level",
        "warn",
        "--show-interactive-dev-session=false",
      ],
      { cwd: app, env: OFFLINE_ENV, stdio: ["ignore", "pipe", "pipe"] },
    );
    pgid = child.pid;
    child.stdout.pipe(out);
    child.stderr.pipe(out);
    let exited = null;
    child.on("exit", (code, signal) => {
      exited = { code, signal };
    });

    const base = `http://127.0.0.1:${port}`;
    const t1 = Date.now();
    for (;;) {
      if (exited)
        throw new Error(
          `wrangler dev exited early (${JSON.stringify(exited)}); log:\n${readFileSync(logFile, "utf8").slice(-3000)}`,
        );
      if (Date.now() - t1 > 60_000)
        throw new Error(
          `wrangler dev did not answer /healthz within 60 s; log:\n${readFileSync(logFile, "utf8").slice(-3000)}`,
        );
      try {
        const res = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) break;
      } catch {
        // Not listening yet.
      }
      await sleep(200);
    }
    const statPgid = Number(readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ")[2]);
    if (statPgid !== pgid)
      throw new Error(`expected wrangler (pid ${child.pid}) to lead its process group, found pgid ${statPgid}`);
    log(`bench: wrangler dev ready at ${base} in ${((Date.now() - t1) / 1000).toFixed(1)} s (process group ${pgid})`);
    return { base, adminToken, sandboxSecret, pgid, dir, logFile, stop, killNow };
  } catch (err) {
    await stop();
    throw err;
  }
}
