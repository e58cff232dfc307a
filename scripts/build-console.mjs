#!/usr/bin/env node
// Builds the console (src/console, Preact + the typed client) into public/console/assets with esbuild:
// one small entry, and the chart library in its own chunk that only the cockpit loads; and the hosted consumer
// pages (src/consumer, no dependency) into public/<page>/assets. Prints each file's gzipped size.
// `npm start`, `npm test` and `npm run deploy` call it; `--watch` rebuilds the console on change.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { build, context } from "esbuild";

const root = resolve(import.meta.dirname, "..");
const outdir = join(root, "public/console/assets");
const options = {
  entryPoints: [join(root, "src/console/main.tsx")],
  bundle: true,
  splitting: true,
  format: "esm",
  target: "es2022",
  outdir,
  entryNames: "[name]",
  chunkNames: "chunk-[hash]",
  minify: true,
  sourcemap: false,
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  logLevel: "warning",
};

/** Gzipped bytes of every built file, the entry first. */
export function assetSizes() {
  return readdirSync(outdir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => ({ file: f, gzip: gzipSync(readFileSync(join(outdir, f))).length }))
    .sort((a, b) => (a.file === "main.js" ? -1 : b.file === "main.js" ? 1 : b.gzip - a.gzip));
}

/** The hosted consumer pages: one dependency-free script each. */
export const CONSUMER_PAGES = ["redeem", "buy", "order"];
const consumerOut = (page) => join(root, "public", page, "assets");

/** The widget's loader, a classic script (so it can read its own origin from document.currentScript). */
const widgetFile = join(root, "public/widget.js");

/** Gzipped bytes of each consumer page's script and of the widget loader. */
export const consumerSizes = () => [
  ...CONSUMER_PAGES.map((page) => ({
    file: `${page}/assets/${page}.js`,
    gzip: gzipSync(readFileSync(join(consumerOut(page), `${page}.js`))).length,
  })),
  { file: "widget.js", gzip: gzipSync(readFileSync(widgetFile)).length },
];

export async function buildConsole({ quiet = false } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  await build(options);
  for (const page of CONSUMER_PAGES) {
    rmSync(consumerOut(page), { recursive: true, force: true });
    await build({
      ...options,
      entryPoints: [join(root, `src/consumer/${page}.ts`)],
      splitting: false,
      outdir: consumerOut(page),
    });
  }
  await build({
    ...options,
    entryPoints: [join(root, "src/consumer/widget.ts")],
    splitting: false,
    format: "iife",
    outdir: undefined,
    outfile: widgetFile,
  });
  if (!quiet)
    for (const { file, gzip } of [...assetSizes(), ...consumerSizes()])
      console.log(`console: ${file.padEnd(24)} ${(gzip / 1024).toFixed(1)} KB gz`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes("--watch")) {
    const ctx = await context(options);
    await ctx.watch();
    console.log("console: watching src/console");
  } else await buildConsole();
}
