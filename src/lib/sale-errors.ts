/** The HTTP answer to a sale the domain refused (domain/sellability.ts), the same for orders and checkout. */
import type { SaleRefusal } from "../domain/sellability";
import { ApiError, notFound, unprocessable } from "./errors";

export function saleRefusalError(r: SaleRefusal): ApiError {
  switch (r.reason) {
    case "product_not_found":
      return notFound(`product ${r.product_id}`);
    case "product_inactive":
      return unprocessable("product_inactive", `product ${r.product_id} is ${r.status}`);
    case "topup_not_supported":
      return unprocessable("topup_not_supported", "topup products cannot be bought through checkout");
    case "product_expired":
      return new ApiError(410, "product_expired", `product ${r.product_id} is no longer on sale`);
    case "product_not_started":
      return unprocessable("product_not_started", `product ${r.product_id} is not on sale yet`);
    case "per_order_limit":
      return unprocessable("per_order_limit", `at most ${r.limit} of ${r.product_id} per order`, {
        product_id: r.product_id,
        limit: r.limit,
      });
    case "mixed_currency":
      return unprocessable("mixed_currency", "all items of an order share one currency");
  }
}

export const channelSuspended = () =>
  new ApiError(403, "channel_suspended", "this channel or one of its parents is suspended");
