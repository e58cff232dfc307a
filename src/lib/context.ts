/** The Hono environment every route shares. */
import type { Auth } from "../security/auth";

export type AppEnv = {
  Bindings: Env;
  Variables: { auth: Auth; requestId: string };
};
