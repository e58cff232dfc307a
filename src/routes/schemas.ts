/** Zod schemas shared by several routes, with their OpenAPI names. */
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "out_of_stock" }),
      message: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
      request_id: z.string().optional(),
    }),
  })
  .openapi("Error");

const errorResponse = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error responses every authenticated route may give. */
export const commonErrors = {
  400: errorResponse("Invalid input"),
  401: errorResponse("Missing or unknown API key"),
  403: errorResponse("The key lacks a scope"),
  404: errorResponse("Unknown resource"),
  429: errorResponse("Rate limited"),
} as const;
export const errorResponses = (...codes: (409 | 410 | 413 | 422 | 423)[]) =>
  Object.fromEntries(
    codes.map((c) => [
      c,
      errorResponse({ 409: "Conflict", 410: "Gone", 413: "Too large", 422: "Business rule", 423: "Locked" }[c]),
    ]),
  );

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { "application/json": { schema } },
});

export const Money = z
  .number()
  .int()
  .min(0)
  .max(1_000_000_000_000)
  .openapi({ description: "Minor units (分 / cents)", example: 1500 });
export const Currency = z
  .string()
  .regex(/^[A-Z]{3}$/, "an ISO-4217 code such as CNY")
  .openapi({ example: "CNY" });
export const IsoDate = z.string().datetime({ offset: true }).openapi({ example: "2027-01-01T00:00:00Z" });

export const idParam = (prefix: string, name = "id") =>
  z.object({
    [name]: z
      .string()
      .regex(new RegExp(`^${prefix}_[a-z0-9]{1,40}$`), `a ${prefix}_ id`)
      .openapi({ param: { name, in: "path" } }),
  });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "1–100" }),
  cursor: z
    .string()
    .max(64)
    .regex(/^[a-z]{3}_[a-z0-9]+$/)
    .optional()
    .openapi({ description: "next_cursor of the previous page" }),
});

export const listOf = <T extends z.ZodType>(item: T, name: string) =>
  z
    .object({
      object: z.literal("list"),
      data: z.array(item),
      has_more: z.boolean(),
      next_cursor: z.string().nullable(),
    })
    .openapi(name);

export function page<T extends { id: string }>(rows: T[], limit: number) {
  const has_more = rows.length > limit;
  const data = rows.slice(0, limit);
  return { object: "list" as const, data, has_more, next_cursor: has_more ? data[data.length - 1].id : null };
}

/**
 * An Idempotency-Key as partners send them: 1–255 printable ASCII characters, so their own order
 * numbers ("1001") work as keys. Scoped to the calling channel and kept at least 24 h.
 */
export const IdempotencyKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x20-\x7e]+$/, "1–255 printable ASCII characters")
  .openapi({ description: "Unique per attempt within your channel, 1–255 printable ASCII characters; kept 24 h" });
