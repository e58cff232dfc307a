/**
 * A channel's pool: which products it sells at what price (its price-list entry), its low-stock mark and
 * refill, and quota moved to it from its parent. Only the channel's ancestors manage these (the API says so
 * too); quota moves only between a channel and its direct parent.
 */
import { useState } from "preact/hooks";
import { api, must, type Schemas } from "../api";
import { fmtMoney, fmtNumber, parseMoney, t } from "../i18n";
import { errorText, Field, Outcome, Section, Select, useAsync } from "../ui";

type Channel = Schemas["Channel"];
const int = (s: string) => (s.trim() === "" ? null : Number.isInteger(Number(s)) ? Number(s) : Number.NaN);

export function PoolEditor({ channel, parentIsMe }: { channel: Channel; parentIsMe: boolean }) {
  const products = useAsync(() => must(api.GET("/v1/products", { params: { query: { limit: 100 } } })), []);
  const [productId, setProductId] = useState("");
  const [enabled, setEnabled] = useState(true);
  const [price, setPrice] = useState("");
  const [lowWater, setLowWater] = useState("");
  const [refill, setRefill] = useState("");
  const [quantity, setQuantity] = useState("");
  const [tick, setTick] = useState(0);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const list = products.data?.data ?? [];
  const chosen = productId || list[0]?.id || "";
  const stock = useAsync(
    () =>
      chosen ? must(api.GET("/v1/products/{id}/stock", { params: { path: { id: chosen } } })) : Promise.resolve(null),
    [chosen, tick],
  );
  const quota = stock.data?.allocations.find((a) => a.channel_id === channel.id)?.quota ?? 0;
  const run = async (work: () => Promise<unknown>) => {
    setMessage(null);
    try {
      await work();
      setMessage({ ok: true, text: t("saved") });
      setTick((n) => n + 1);
    } catch (err) {
      setMessage({ ok: false, text: errorText(err) });
    }
  };
  const saveEntry = (e: Event) => {
    e.preventDefault();
    const minor = price.trim() === "" ? null : parseMoney(price);
    const [lw, rf] = [int(lowWater), int(refill)];
    if (price.trim() !== "" && minor === null) return setMessage({ ok: false, text: t("badPrice") });
    if (Number.isNaN(lw) || Number.isNaN(rf)) return setMessage({ ok: false, text: t("badNumber") });
    void run(() =>
      must(
        api.PUT("/v1/channels/{id}/products/{product_id}", {
          params: { path: { id: channel.id, product_id: chosen } },
          body: { enabled, price: minor, low_water: lw, refill: rf },
        }),
      ),
    );
  };
  const moveQuota = (e: Event) => {
    e.preventDefault();
    const n = int(quantity);
    if (n === null || Number.isNaN(n) || n === 0) return setMessage({ ok: false, text: t("badNumber") });
    void run(() =>
      must(
        api.POST("/v1/products/{id}/allocations", {
          params: { path: { id: chosen } },
          body: { channel_id: channel.id, quantity: n },
        }),
      ),
    );
  };
  if (list.length === 0) return null;
  const product = list.find((p) => p.id === chosen);
  return (
    <Section title={t("priceList")}>
      <Select
        label={t("product")}
        value={chosen}
        onChange={setProductId}
        options={list.map((p) => ({ value: p.id, label: p.name }))}
      />
      {product && (
        <p class="hint">
          {t("price")}: {fmtMoney(product.price, product.currency)} · {t("quota")}:{" "}
          <span data-quota>{fmtNumber(quota)}</span>
        </p>
      )}
      <form class="form inline" onSubmit={saveEntry}>
        <label class="check">
          <input
            type="checkbox"
            checked={enabled}
            onChange={(e) => setEnabled((e.target as HTMLInputElement).checked)}
          />
          {t("active")}
        </label>
        <Field label={t("priceYuan")} hint={t("priceHint")}>
          <input inputMode="decimal" value={price} onInput={(e) => setPrice((e.target as HTMLInputElement).value)} />
        </Field>
        <Field label={t("lowWater")}>
          <input
            inputMode="numeric"
            value={lowWater}
            onInput={(e) => setLowWater((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t("refillTo")}>
          <input inputMode="numeric" value={refill} onInput={(e) => setRefill((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit">{t("save")}</button>
      </form>
      {parentIsMe && (
        <form class="form inline" onSubmit={moveQuota}>
          <Field label={t("moveQuota")} hint={t("moveQuotaHint")}>
            <input
              inputMode="numeric"
              required
              value={quantity}
              onInput={(e) => setQuantity((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit">{t("apply")}</button>
        </form>
      )}
      <Outcome message={message} />
    </Section>
  );
}
