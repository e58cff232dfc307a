/** Turns zod failures into the uniform 400 error with the failing paths. */
import type { Context } from "hono";
import { errorBody } from "./errors";

interface Issue {
  path: PropertyKey[];
  message: string;
}

export function describeIssues(issues: Issue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.map(String).join(".")}: ${i.message}` : i.message))
    .join("; ");
}

export const validationHook = (
  result: { success: boolean; error?: { issues: Issue[] }; target?: string },
  c: Context,
) => {
  if (!result.success) {
    const issues = result.error?.issues ?? [];
    return c.json(
      errorBody(
        "validation_error",
        describeIssues(issues) || "invalid request",
        {
          issues: issues.slice(0, 20).map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
          ...(result.target ? { in: result.target } : {}),
        },
        c.get("requestId"),
      ),
      400,
    );
  }
};
