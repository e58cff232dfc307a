/**
 * The console's shell: the session (sign-in, sign-out, expiry), the language, the navigation the role may
 * use, and a hash router (#/orders, #/products/prd_…) so every page has a link and the back button works
 * with no server routes of its own. Pages load on demand except the small ones.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, must, type Schemas, SESSION_ENDED, setCsrf } from "./api";
import { type Key, type Lang, lang, setLang, t } from "./i18n";
import { forgetChannelNames } from "./names";
import { NAV, PageFor } from "./pages";
import { can } from "./roles";
import { routeOf, useRoute } from "./router";
import { SignIn } from "./sign-in";
import { Loading } from "./ui";

export type User = Schemas["User"];

function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [notice, setNotice] = useState<Key | null>(null);
  const [, setLangState] = useState<Lang>(lang());
  const route = useRoute();

  useEffect(() => {
    document.documentElement.lang = lang();
    must(api.GET("/v1/sessions/current")).then(
      (s) => setUser(s.user),
      () => setUser(null),
    );
    const ended = () => {
      setCsrf(null);
      setUser((u) => {
        if (u) setNotice("sessionExpired");
        return null;
      });
    };
    window.addEventListener(SESSION_ENDED, ended);
    return () => window.removeEventListener(SESSION_ENDED, ended);
  }, []);

  const switchLang = (next: Lang) => {
    setLang(next);
    setLangState(next);
  };
  const langSwitch = (
    <label class="lang">
      <span class="sr-only">{t("language")}</span>
      <select value={lang()} onChange={(e) => switchLang((e.target as HTMLSelectElement).value as Lang)}>
        <option value="en">English</option>
        <option value="zh-CN">简体中文</option>
      </select>
    </label>
  );

  if (user === undefined) return <Loading />;
  if (user === null)
    return (
      <SignIn
        notice={notice}
        langSwitch={langSwitch}
        onSignedIn={(u) => {
          setNotice(null);
          setUser(u);
        }}
      />
    );

  const signOut = async () => {
    await api.DELETE("/v1/sessions/current").catch(() => undefined);
    setCsrf(null);
    forgetChannelNames();
    setUser(null);
  };
  const items = NAV.filter((n) => (!n.needs || can(user.role, n.needs)) && (!n.root || user.channel_id === null));
  const current = items.find((n) => n.id === route.page) ?? items[0];
  return (
    <div class="shell">
      {/* A button, not a #main link: the hash is the router's. */}
      <button type="button" class="skip" onClick={() => document.getElementById("main")?.focus()}>
        {t("skip")}
      </button>
      <header class="top">
        <span class="brand">{t("appName")}</span>
        <span class="who">{t("signedInAs", { email: user.email, role: t(`role_${user.role}` as Key) })}</span>
        {langSwitch}
        <button type="button" class="ghost" onClick={signOut}>
          {t("signOut")}
        </button>
      </header>
      <nav class="side" aria-label={t("nav")}>
        <ul>
          {items.map((n) => (
            <li key={n.id}>
              <a href={routeOf(n.id)} aria-current={n.id === current.id ? "page" : undefined}>
                {t(n.label)}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <PageFor page={current.id} param={route.param} user={user} />
      </main>
    </div>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);
