/**
 * The store clerk's screen, made for a phone: type or paste the code (and PIN for cards), or scan its QR
 * with the camera where the browser has BarcodeDetector; check it, then redeem it. Nothing is kept: the code
 * leaves the page with the request and the field is cleared after a redemption.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ConsoleError, must, type Schemas } from "../api";
import { fmtDate, t } from "../i18n";
import { errorText, Field } from "../ui";

type CodeState = Schemas["CodeState"];

declare global {
  interface Window {
    BarcodeDetector?: new (o: {
      formats: string[];
    }) => { detect: (v: HTMLVideoElement) => Promise<{ rawValue: string }[]> };
  }
}

export function Redeem() {
  const [code, setCode] = useState("");
  const [pin, setPin] = useState("");
  const [state, setState] = useState<CodeState | null>(null);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [scanning, setScanning] = useState(false);
  const body = () => ({ code: code.trim(), ...(pin.trim() ? { pin: pin.trim() } : {}) });

  const check = async () => {
    setBusy(true);
    setResult(null);
    try {
      setState(await must(api.POST("/v1/codes/verify", { body: body() })));
    } catch (err) {
      setState(null);
      setResult({ ok: false, text: reasonText(err) });
    } finally {
      setBusy(false);
    }
  };
  const redeem = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setResult(null);
    try {
      await must(api.POST("/v1/redemptions", { body: body() }));
      setResult({ ok: true, text: t("redeemedOk") });
      setCode("");
      setPin("");
      setState(null);
    } catch (err) {
      setResult({ ok: false, text: reasonText(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page clerk">
      <h1>{t("clerkTitle")}</h1>
      <p class="hint">{t("clerkHelp")}</p>
      <form class="form" onSubmit={redeem}>
        <Field label={t("code")}>
          <input
            class="code-input"
            autoComplete="off"
            autoCapitalize="characters"
            spellcheck={false}
            required
            value={code}
            onInput={(e) => setCode((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field label={t("pin")}>
          <input
            autoComplete="off"
            inputMode="numeric"
            value={pin}
            onInput={(e) => setPin((e.target as HTMLInputElement).value)}
          />
        </Field>
        {scanning && (
          <Scanner
            onCode={(c) => {
              setCode(c);
              setScanning(false);
            }}
            onStop={() => setScanning(false)}
          />
        )}
        <div class="form-actions">
          <button type="button" onClick={check} disabled={busy || !code.trim()}>
            {t("check")}
          </button>
          <button type="submit" class="primary big" disabled={busy || !code.trim()}>
            {t("redeemNow")}
          </button>
          {!scanning && (
            <button type="button" onClick={() => setScanning(true)}>
              {t("scan")}
            </button>
          )}
        </div>
      </form>
      {state && (
        <p class="ok" role="status">
          {t("codeOk", { product: state.product_id })} · …{state.last4}
          {state.expires_at && ` · ${t("validUntil", { date: fmtDate(state.expires_at, false) })}`}
        </p>
      )}
      {result && (
        <p class={result.ok ? "ok big-result" : "error big-result"} role={result.ok ? "status" : "alert"}>
          {result.text}
        </p>
      )}
    </div>
  );
}

function reasonText(err: unknown): string {
  return err instanceof ConsoleError && err.status !== 0 && err.status !== 403 ? err.message : errorText(err);
}

function Scanner({ onCode, onStop }: { onCode: (c: string) => void; onStop: () => void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [unsupported, setUnsupported] = useState(false);
  useEffect(() => {
    if (!window.BarcodeDetector || !navigator.mediaDevices?.getUserMedia) {
      setUnsupported(true);
      return;
    }
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setInterval> | undefined;
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(
      (s) => {
        stream = s;
        if (!video.current) return;
        video.current.srcObject = s;
        void video.current.play();
        timer = setInterval(async () => {
          const found = video.current ? await detector.detect(video.current).catch(() => []) : [];
          if (found[0]?.rawValue) onCode(found[0].rawValue);
        }, 300);
      },
      () => setUnsupported(true),
    );
    return () => {
      clearInterval(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, []);
  if (unsupported)
    return (
      <p class="notice" role="status">
        {t("scanUnsupported")}
      </p>
    );
  return (
    <div class="scanner">
      <video ref={video} muted playsInline aria-label={t("scan")} />
      <button type="button" onClick={onStop}>
        {t("scanStop")}
      </button>
    </div>
  );
}
