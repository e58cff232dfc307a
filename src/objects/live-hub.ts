/**
 * LiveHub: the open console connections, and the one way live numbers reach them (events consumer →
 * this object → browser). One object holds every console socket of the merchant through the WebSocket
 * hibernation API, so idle connections cost nothing; each socket is tagged with the channel path its user
 * may see. A notice names the paths of the channels an event batch touched, and a socket hears about it only
 * when one of them lies in its subtree: the message says "something changed" and never carries a number, so
 * nothing of a sibling can reach it. The console then re-reads GET /v1/analytics with its own key.
 */
import { DurableObject } from "cloudflare:workers";

export interface LiveNotice {
  /** Materialised paths of the channels whose numbers changed. */
  paths: string[];
  /** What changed, for the console's choice of what to re-read ("orders", "redemptions", "stock"). */
  topics: string[];
}

/** The versioned message a console receives. */
export interface LiveMessage {
  v: 1;
  type: "changed" | "hello";
  topics: string[];
  at: string;
}

interface Attachment {
  path: string;
}

export function liveHub(env: Env): DurableObjectStub<LiveHub> {
  return env.LIVE_HUB.get(env.LIVE_HUB.idFromName("console"));
}

export class LiveHub extends DurableObject<Env> {
  /** Accepts a WebSocket upgrade for a console scoped to `path` (checked by the route before it gets here). */
  async fetch(request: Request): Promise<Response> {
    const path = request.headers.get("x-ve-scope-path");
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket" || !path)
      return new Response("expected a websocket upgrade", { status: 426 });
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ path } satisfies Attachment);
    server.send(
      JSON.stringify({ v: 1, type: "hello", topics: [], at: new Date().toISOString() } satisfies LiveMessage),
    );
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Tells every socket whose subtree holds one of the paths; returns how many were told. */
  async notify(notice: LiveNotice): Promise<number> {
    const message = JSON.stringify({
      v: 1,
      type: "changed",
      topics: notice.topics,
      at: new Date().toISOString(),
    } satisfies LiveMessage);
    let told = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const scope = (ws.deserializeAttachment() as Attachment | null)?.path;
      if (!scope || !notice.paths.some((p) => p.startsWith(scope))) continue;
      try {
        ws.send(message);
        told++;
      } catch {
        // A socket closing under us: the close handler forgets it.
      }
    }
    return told;
  }

  /** The console only listens; a ping keeps proxies from closing an idle socket. */
  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    if (message === "ping") ws.send("pong");
  }

  async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    try {
      ws.close(code === 1005 ? 1000 : code, "bye");
    } catch {
      /* already closed */
    }
  }
}
