/** Typed API errors, mapped to `{"error": {"code", "message"}}` by the app's onError. */
import type { ContentfulStatusCode } from "hono/utils/http-status";

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const notFound = (what: string, code = "not_found") => new ApiError(404, code, `${what} not found`);
export const badRequest = (message: string, code = "validation_error", details?: Record<string, unknown>) =>
  new ApiError(400, code, message, details);
export const conflict = (code: string, message: string, details?: Record<string, unknown>) =>
  new ApiError(409, code, message, details);
export const unprocessable = (code: string, message: string, details?: Record<string, unknown>) =>
  new ApiError(422, code, message, details);

export function errorBody(code: string, message: string, details?: Record<string, unknown>, requestId?: string) {
  return { error: { code, message, ...(details ? { details } : {}), ...(requestId ? { request_id: requestId } : {}) } };
}
