/** The sign-in form: email and password, the CSRF token kept for the session, clear errors. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { api, ConsoleError, must, setCsrf } from "./api";
import { type Key, t } from "./i18n";
import type { User } from "./main";
import { errorText, Field } from "./ui";

export function SignIn(props: { notice: Key | null; langSwitch: ComponentChildren; onSignedIn: (u: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await must(api.POST("/v1/sessions", { body: { email, password } }));
      setCsrf(session.csrf_token ?? null);
      props.onSignedIn(session.user);
    } catch (err) {
      if (err instanceof ConsoleError && err.code === "invalid_credentials") setError(t("badCredentials"));
      else if (err instanceof ConsoleError && err.status === 429) setError(t("tooManyTries", { minutes: 15 }));
      else if (err instanceof ConsoleError && err.status === 503) setError(t("notConfigured"));
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <div class="signin-top">{props.langSwitch}</div>
      <form class="card signin-card" onSubmit={submit} aria-describedby="signin-help">
        <h1>{t("signInTitle")}</h1>
        <p id="signin-help" class="hint">
          {t("signInHelp")}
        </p>
        {props.notice && (
          <p class="notice" role="status">
            {t(props.notice)}
          </p>
        )}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <Field label={t("email")}>
          <input
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t("password")}>
          <input
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t("signingIn") : t("signIn")}
        </button>
      </form>
    </main>
  );
}
