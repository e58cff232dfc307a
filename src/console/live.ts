/**
 * The cockpit's live link: a WebSocket to GET /v1/live (the session cookie authenticates it). On "changed"
 * the page re-reads its numbers, a moment later so one burst of orders costs one read. It reconnects with
 * backoff, and the page also re-reads every 30 s, so a lost socket never leaves numbers stale for long.
 */
import { useEffect, useRef, useState } from "preact/hooks";

export function useLive(onChange: () => void): boolean {
  const [connected, setConnected] = useState(false);
  const latest = useRef(onChange);
  latest.current = onChange;
  useEffect(() => {
    let ws: WebSocket | null = null;
    let stopped = false;
    let retry = 500;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    let reconnect: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => latest.current(), 150);
    };
    const open = () => {
      const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/live`;
      ws = new WebSocket(url);
      ws.onopen = () => {
        retry = 500;
        setConnected(true);
      };
      ws.onmessage = (e) => {
        try {
          const m = JSON.parse(String(e.data)) as { v?: number; type?: string };
          if (m.v === 1 && m.type === "changed") changed();
        } catch {
          /* "pong" or a message of a newer version: ignored */
        }
      };
      ws.onclose = () => {
        setConnected(false);
        if (stopped) return;
        reconnect = setTimeout(open, retry);
        retry = Math.min(retry * 2, 15_000);
      };
    };
    open();
    const poll = setInterval(() => latest.current(), 30_000);
    return () => {
      stopped = true;
      clearTimeout(debounce);
      clearTimeout(reconnect);
      clearInterval(poll);
      ws?.close();
    };
  }, []);
  return connected;
}
