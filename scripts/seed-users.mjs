// Demo console users for `npm start`: the owner (created by setup.mjs) and a channel manager of the demo's
// Hangzhou store, both with passwords kept in .dev.vars (local only, git-ignored) so start can print them.
// Idempotent: existing demo users get their passwords reset to the ones in .dev.vars.
export const DEMO_OWNER_EMAIL = "owner@example.com";
export const DEMO_MANAGER_EMAIL = "store.manager@example.com";
export const DEMO_STORE_NAME = "Demo: Hangzhou West Lake store";

export async function seedUsers(base, token, { ownerPassword, managerPassword }) {
  const api = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json().catch(() => null);
    return { status: res.status, json };
  };
  const stores = await api("GET", "/v1/channels?type=store&limit=100");
  const store = stores.json?.data?.find((c) => c.name === DEMO_STORE_NAME);
  if (!store) throw new Error(`seed-users: the demo store "${DEMO_STORE_NAME}" is missing`);
  const users = (await api("GET", "/v1/users?limit=100")).json?.data ?? [];
  const ensure = async (email, body) => {
    const existing = users.find((u) => u.email === email);
    const res = existing
      ? await api("PATCH", `/v1/users/${existing.id}`, { ...body, status: "active" })
      : await api("POST", "/v1/users", { email, ...body });
    if (res.status >= 300) throw new Error(`seed-users: ${email}: ${res.status} ${JSON.stringify(res.json?.error)}`);
  };
  await ensure(DEMO_OWNER_EMAIL, { password: ownerPassword, role: "owner" });
  await ensure(DEMO_MANAGER_EMAIL, { password: managerPassword, role: "channel_manager", channel_id: store.id });
  return { store };
}
