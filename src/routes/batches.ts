/** Code batches: generate by a rule, import JSON, or upload CSV; read a batch's progress. */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { listProductBatches } from "../db/batches";
import { getProduct } from "../db/products";
import { parseCsv } from "../domain/import-lines";
import { type BatchView, generateBatch, getBatch, importBatch, resolveRule, toBatch } from "../lib/batches";
import type { AppEnv } from "../lib/context";
import { ApiError, notFound, unprocessable } from "../lib/errors";
import { validationHook } from "../lib/validation";
import { requireRoot, requireScope } from "../security/auth";
import { commonErrors, errorResponses, idParam, json, listOf, PageQuery, page } from "./schemas";

export const batchesApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
const tags = ["Batches"];
export const MAX_BATCH_LINES = 100_000;
const CSV_MAX_BYTES = 8 * 1024 * 1024;

const GenerateRule = z
  .object({
    count: z.number().int().min(1).max(MAX_BATCH_LINES),
    length: z
      .number()
      .int()
      .min(6)
      .max(64)
      .optional()
      .openapi({ description: "Characters after the prefix (default 16, of which 3 are check characters)" }),
    charset: z.enum(["crockford32", "digits", "alphanumeric"]).optional(),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9]{0,12}$/, "up to 12 letters or digits")
      .optional(),
    group_size: z.number().int().min(0).max(16).optional(),
    separator: z.enum(["-", " ", ""]).optional(),
    pin_length: z
      .number()
      .int()
      .min(4)
      .max(16)
      .optional()
      .openapi({ description: "PIN digits for card products (default 8)" }),
  })
  .strict();

const ImportCodes = z
  .object({
    codes: z
      .array(z.object({ code: z.string().max(200), pin: z.string().max(64).nullable().optional() }).strict())
      .min(1)
      .max(MAX_BATCH_LINES),
  })
  .strict();

const BatchCreate = z
  .union([z.object({ generate: GenerateRule }).strict(), z.object({ import: ImportCodes }).strict()])
  .openapi("BatchCreate", {
    description: "Either `generate` or `import`. Large imports can also be uploaded as text/csv.",
  });

export const BatchSchema = z
  .object({
    id: z.string(),
    object: z.literal("batch"),
    product_id: z.string(),
    source: z.enum(["generate", "import"]),
    status: z.enum(["running", "completed", "failed"]),
    total: z.number(),
    done: z.number(),
    error: z.string().nullable(),
    created_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi("Batch");

const created = (batch: BatchView) => (batch.status === "running" ? 202 : 201) as 201 | 202;

batchesApp.openapi(
  createRoute({
    method: "post",
    path: "/products/{id}/batches",
    tags,
    summary: "Add codes: generate, import JSON or upload CSV",
    middleware: [
      bodyLimit({
        maxSize: CSV_MAX_BYTES,
        onError: () => {
          throw new ApiError(413, "payload_too_large", `a batch upload is at most ${CSV_MAX_BYTES} bytes`);
        },
      }),
    ] as const,
    request: {
      params: idParam("prd"),
      // Not `required`: a text/csv upload must not be validated as JSON; a missing JSON body is refused below.
      body: {
        required: false,
        content: {
          "application/json": { schema: BatchCreate },
          "text/csv": { schema: z.string().openapi({ description: "code[,pin] per line, optional header" }) },
        },
      },
    },
    responses: {
      201: json(BatchSchema, "Stored"),
      202: json(BatchSchema, "Running as a background job"),
      ...commonErrors,
      ...errorResponses(409, 413, 422),
    },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "codes:write");
    requireRoot(auth);
    const product = await getProduct(c.env.DB, c.req.valid("param").id);
    if (!product) throw notFound("product");
    if ((c.req.header("content-type") ?? "").toLowerCase().startsWith("text/csv")) {
      const { lines, firstLine } = parseCsv(await c.req.text());
      if (lines.length > MAX_BATCH_LINES)
        throw unprocessable("too_many_lines", `a CSV batch has at most ${MAX_BATCH_LINES} lines`);
      const batch = await importBatch(c.env, product, lines, firstLine);
      return c.json(batch, created(batch));
    }
    const body = c.req.valid("json") as z.infer<typeof BatchCreate> | undefined;
    if (!body || !("generate" in body || "import" in body))
      throw new ApiError(400, "validation_error", 'send JSON {"generate": …} or {"import": …}, or a text/csv upload');
    if ("generate" in body) {
      const { count, ...rule } = body.generate;
      const batch = await generateBatch(c.env, product, resolveRule(rule), count);
      return c.json(batch, created(batch));
    }
    const batch = await importBatch(c.env, product, body.import.codes);
    return c.json(batch, created(batch));
  },
);

batchesApp.openapi(
  createRoute({
    method: "get",
    path: "/batches/{id}",
    tags,
    summary: "A batch and its progress",
    request: { params: idParam("bat") },
    responses: { 200: json(BatchSchema, "The batch"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    // Batches are the merchant's: to a channel key every batch id answers like an unknown one.
    const batch = auth.root ? await getBatch(c.env.DB, c.req.valid("param").id) : null;
    if (!batch) throw notFound("batch");
    return c.json(batch, 200);
  },
);

batchesApp.openapi(
  createRoute({
    method: "get",
    path: "/products/{id}/batches",
    tags,
    summary: "A product's batches (generations and imports), newest first",
    request: { params: idParam("prd"), query: PageQuery },
    responses: { 200: json(listOf(BatchSchema, "BatchList"), "A page of batches"), ...commonErrors },
  }),
  async (c) => {
    const auth = c.get("auth");
    requireScope(auth, "products:read");
    // The merchant's alone, like GET /v1/batches/{id}.
    const product = auth.root ? await getProduct(c.env.DB, c.req.valid("param").id) : null;
    if (!product) throw notFound("product");
    const q = c.req.valid("query");
    const rows = await listProductBatches(c.env.DB, product.id, q.cursor, q.limit);
    return c.json(page(rows.map(toBatch), q.limit), 200);
  },
);
