/** The gateway adapters by name, and which secret a gateway is missing. */
import { alipayGateway } from "./alipay";
import { sandboxGateway } from "./sandbox";
import { stripeGateway } from "./stripe";
import { type GatewayAdapter, type GatewayName, secret } from "./types";
import { wechatGateway } from "./wechat";

export const gateways: Record<GatewayName, GatewayAdapter> = {
  sandbox: sandboxGateway,
  stripe: stripeGateway,
  alipay: alipayGateway,
  wechat: wechatGateway,
};

/** The first secret the gateway needs that is not set, or null when it is configured. */
export function missingSecret(env: Env, name: GatewayName): string | null {
  const adapter = gateways[name];
  for (const s of adapter.secrets) if (!secret(env, s)) return s;
  if (name === "wechat" && new TextEncoder().encode(secret(env, "WECHATPAY_API_V3_KEY")!).length !== 32)
    return "WECHATPAY_API_V3_KEY";
  return null;
}
