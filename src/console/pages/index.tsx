/** The pages the navigation offers, what each needs, and which component renders a route. */

import type { Key } from "../i18n";
import type { User } from "../main";
import type { Permission } from "../roles";
import { Campaigns } from "./campaigns";
import { ChannelDetail } from "./channel-detail";
import { Channels } from "./channels";
import { Cockpit } from "./cockpit";
import { Codes } from "./codes";
import { Events } from "./events";
import { Exports } from "./exports";
import { Audit, Finance } from "./lists";
import { OrderDetail, Orders } from "./orders";
import { ProductDetail } from "./product-detail";
import { Products } from "./products";
import { Redeem } from "./redeem";
import { Redemptions } from "./redemptions";
import { Users } from "./users";
import { Webhooks } from "./webhooks";

/** `root`: the merchant's staff only (the codes are the merchant's, never a channel's). */
export const NAV: { id: string; label: Key; needs?: Permission; root?: boolean }[] = [
  { id: "cockpit", label: "cockpit", needs: "orders:read" },
  { id: "products", label: "products", needs: "products:read" },
  { id: "codes", label: "codes", needs: "products:read", root: true },
  { id: "orders", label: "orders", needs: "orders:read" },
  { id: "redemptions", label: "redemptions", needs: "orders:read" },
  { id: "redeem", label: "redeem", needs: "redemptions:write" },
  { id: "channels", label: "channels", needs: "channels:read" },
  { id: "campaigns", label: "campaigns", needs: "orders:read" },
  { id: "finance", label: "finance", needs: "ledger:read" },
  { id: "exports", label: "exports", needs: "orders:read" },
  { id: "events", label: "eventLog", needs: "orders:read" },
  { id: "webhooks", label: "webhooks", needs: "webhooks:read" },
  { id: "audit", label: "audit", needs: "audit:read" },
  { id: "users", label: "users", needs: "users:admin" },
];

export function PageFor({ page, param, user }: { page: string; param: string | undefined; user: User }) {
  const role = user.role;
  switch (page) {
    case "products":
      return param ? <ProductDetail id={param} role={role} /> : <Products role={role} />;
    case "codes":
      return <Codes role={role} />;
    case "orders":
      return param ? <OrderDetail id={param} role={role} /> : <Orders />;
    case "redemptions":
      return <Redemptions role={role} />;
    case "redeem":
      return <Redeem />;
    case "channels":
      return param ? <ChannelDetail id={param} role={role} ownChannelId={user.channel_id} /> : <Channels role={role} />;
    case "campaigns":
      return <Campaigns role={role} id={param} />;
    case "finance":
      return <Finance root={user.channel_id === null} />;
    case "webhooks":
      return <Webhooks role={role} id={param} />;
    case "events":
      return <Events />;
    case "exports":
      return <Exports />;
    case "audit":
      return <Audit />;
    case "users":
      return <Users role={role} />;
    default:
      return <Cockpit />;
  }
}
