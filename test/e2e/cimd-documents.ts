// A loopback web server that publishes Client ID Metadata Documents the way a client's site
// would, and misbehaves on purpose on some paths (too large, slow, redirecting, not JSON).
// It counts requests per path, so a test can see whether the authorization server refetched.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

type Handler = (req: IncomingMessage, res: ServerResponse, base: string) => void;

export interface DocumentServer {
  /** e.g. http://127.0.0.1:40123 */
  readonly base: string;
  /** `${base}${path}`: the Client Identifier URL of a path. */
  url(path: string): string;
  /** Requests served for a path so far. */
  hits(path: string): number;
  stop(): Promise<void>;
}

export interface DocumentOptions {
  readonly redirectUri: string;
  readonly clientName: string;
}

const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
};

/** Streams `{"padding":"xxxx…` in 1 KiB chunks without a Content-Length until the reader hangs up. */
const endless = (res: ServerResponse) => {
  res.writeHead(200, { "content-type": "application/json" }); // chunked: no Content-Length
  res.write('{"padding":"');
  const chunk = "x".repeat(1024);
  let sent = 0;
  const timer = setInterval(() => {
    if (res.destroyed || sent > 4096) return clearInterval(timer); // 4 MiB is far past any limit
    res.write(chunk);
    sent++;
  }, 1);
  res.on("close", () => clearInterval(timer));
};

export async function startDocumentServer(options: DocumentOptions): Promise<DocumentServer> {
  const counts = new Map<string, number>();
  const sockets = new Set<import("node:net").Socket>();
  const doc = (base: string, path: string, extra: Record<string, unknown> = {}) => ({
    client_id: `${base}${path}`,
    client_name: options.clientName,
    redirect_uris: [options.redirectUri],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
    ...extra,
  });
  const routes: Record<string, Handler> = {
    "/valid.json": (_q, res, base) => json(res, doc(base, "/valid.json"), { "cache-control": "max-age=600" }),
    "/cached.json": (_q, res, base) => json(res, doc(base, "/cached.json"), { "cache-control": "public, max-age=600" }),
    "/no-store.json": (_q, res, base) => json(res, doc(base, "/no-store.json"), { "cache-control": "no-store" }),
    "/mismatch.json": (_q, res, base) => json(res, doc(base, "/mismatch.json", { client_id: `${base}/someone-else.json` })),
    "/secret.json": (_q, res, base) => json(res, doc(base, "/secret.json", { token_endpoint_auth_method: "client_secret_basic" })),
    "/large.json": (_q, res, base) => json(res, doc(base, "/large.json", { padding: "x".repeat(6000) })),
    "/endless.json": (_q, res) => endless(res),
    "/slow-headers.json": (_q, res, base) => {
      setTimeout(() => !res.destroyed && json(res, doc(base, "/slow-headers.json")), 10_000).unref();
    },
    "/slow-body.json": (_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write("{"); // …and nothing more
    },
    "/redirect.json": (_q, res, base) => {
      res.writeHead(302, { location: `${base}/valid.json` });
      res.end();
    },
    "/html.json": (_q, res, base) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(JSON.stringify(doc(base, "/html.json")));
    },
    "/not-json.json": (_q, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("client_id: yes");
    },
    "/reset.json": (_q, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "4000" });
      res.write('{"client_id":');
      setTimeout(() => res.socket?.destroy(), 50).unref();
    },
    "/gone.json": (_q, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end("{}");
    },
  };
  let base = "";
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const route = routes[path];
    if (route) return route(req, res, base);
    res.writeHead(404);
    res.end();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  base = `http://127.0.0.1:${address.port}`;
  return {
    base,
    url: (path) => `${base}${path}`,
    hits: (path) => counts.get(path) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
