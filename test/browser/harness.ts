// What every browser test file stands on: a real `wrangler dev` (test/e2e/server.ts), one
// headless Chromium, and a loopback "application" on another 127.0.0.1 port that plays the
// OAuth client's redirect URI (RFC 8252 §7.3) and serves the hostile framing page. The OAuth
// steps a client does itself (DCR, PKCE, the code exchange, the MCP call) run from Node with
// fetch; only the person's part runs in the browser.

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Browser } from "playwright-core";
import { authorizationUrl, discover, pkce, tokenRequest, type Discovery, type Pkce } from "../e2e/oauth-raw.ts";
import { startDevServer, type DevServer } from "../e2e/server.ts";
import { identityOf, type Identity, type ToolResultLike } from "../e2e/tool-results.ts";
import { launchChromium } from "./chromium.ts";

/** One request the loopback application received (the redirect back, a framing page). */
export interface Hit {
  readonly url: URL;
  readonly method: string;
  /** The Referer the browser sent: Warden's pages must leak none to another origin. */
  readonly referer: string | null;
}

/** The client's own web server on loopback: its /callback is the registered redirect URI. */
export interface LoopbackApp {
  readonly origin: string;
  readonly redirectUri: string;
  readonly hits: Hit[];
  /** A page on this (other) origin that puts `target` in an iframe, next to a same-origin control frame. */
  framerUrl(target: string): string;
  /** A page on this (other) origin with a form of hidden `fields` that posts to `action`. */
  crossSiteFormUrl(action: string, fields: Readonly<Record<string, string>>): string;
  close(): Promise<void>;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>` +
  `<body style="font: 16px system-ui, sans-serif; margin: 2rem">${body}</body></html>`;

export async function startLoopbackApp(): Promise<LoopbackApp> {
  const hits: Hit[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    hits.push({ url, method: req.method ?? "GET", referer: req.headers.referer ?? null });
    const send = (status: number, html: string) => {
      res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(html);
    };
    if (url.pathname === "/callback") {
      const rows = [...url.searchParams].map(([k, v]) => `<li><code>${escapeHtml(k)}</code> = <code>${escapeHtml(v.slice(0, 24))}${v.length > 24 ? "…" : ""}</code></li>`);
      return send(200, page("Back in the application", `<h1 id="app-callback">Back in the application</h1><p>The authorization server redirected here with:</p><ul>${rows.join("")}</ul>`));
    }
    if (url.pathname === "/control") {
      return send(200, page("Control", `<p id="control-content">This frame is allowed to render.</p>`));
    }
    if (url.pathname === "/framer") {
      const target = url.searchParams.get("target") ?? "about:blank";
      return send(
        200,
        page(
          "Framing attempt",
          `<h1>Another site framing Warden</h1>
<iframe id="victim" name="victim" src="${escapeHtml(target)}" width="600" height="420" style="border: 2px dashed #c00"></iframe>
<iframe id="control" name="control" src="/control" width="600" height="80" style="border: 2px dashed #090"></iframe>`,
        ),
      );
    }
    if (url.pathname === "/cross-site-form") {
      // Another site's form that posts to Warden (login CSRF): every query parameter but
      // `action` becomes a hidden field.
      const fields = [...url.searchParams].filter(([k]) => k !== "action");
      return send(
        200,
        page(
          "Win a prize",
          `<h1>Win a prize</h1><form method="post" action="${escapeHtml(url.searchParams.get("action") ?? "")}">
${fields.map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`).join("\n")}
<button type="submit">Claim it</button></form>`,
        ),
      );
    }
    send(404, page("Not found", "<p>not found</p>"));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("loopback app has no port");
  const origin = `http://127.0.0.1:${address.port}`;
  return {
    origin,
    redirectUri: `${origin}/callback`,
    hits,
    framerUrl: (target) => `${origin}/framer?target=${encodeURIComponent(target)}`,
    crossSiteFormUrl: (action, fields) => `${origin}/cross-site-form?${new URLSearchParams({ action, ...fields })}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface Stack {
  readonly server: DevServer;
  readonly discovery: Discovery;
  readonly app: LoopbackApp;
  readonly browser: Browser;
  close(): Promise<void>;
}

const bounded = <T>(work: Promise<T>, ms: number) =>
  Promise.race([work.then(() => undefined), new Promise<void>((r) => setTimeout(r, ms).unref())]).catch(() => undefined);

/** Starts everything; whatever started is stopped again if a later step fails. */
export async function startStack(name: string, vars: Readonly<Record<string, string>> = {}): Promise<Stack> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    // Each bounded and independent: a browser that will not close must not keep wrangler alive.
    for (const c of closers.reverse()) await bounded(c(), 15_000);
    closers.length = 0;
  };
  try {
    const app = await startLoopbackApp();
    closers.push(() => app.close());
    const browser = await launchChromium();
    closers.push(() => browser.close());
    const server = await startDevServer({ name, vars });
    closers.push(() => server.stop());
    const discovery = await discover(server.mcpUrl);
    return { server, discovery, app, browser, close };
  } catch (error) {
    await close();
    throw error;
  }
}

export const randomEmail = (prefix: string) => `${prefix}-${randomBytes(5).toString("hex")}@example.com`;
export const randomPassword = () => `correct horse ${randomBytes(9).toString("base64url")}`;

export interface Authorization {
  readonly clientId: string;
  readonly clientName: string;
  readonly pkce: Pkce;
  readonly state: string;
  readonly url: URL;
}

/** RFC 7591 registration of a public client for the loopback app, then a PKCE (RFC 7636) request. */
export async function newAuthorization(stack: Stack, clientName = "Keyboard Test App"): Promise<Authorization> {
  const res = await fetch(stack.discovery.server.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: [stack.app.redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  const body = (await res.json()) as { client_id?: unknown };
  if (res.status !== 201 || typeof body.client_id !== "string") throw new Error(`registration: HTTP ${res.status} ${JSON.stringify(body)}`);
  const verifier = pkce();
  const state = randomBytes(12).toString("base64url");
  const url = authorizationUrl(stack.discovery, { clientId: body.client_id, redirectUri: stack.app.redirectUri, pkce: verifier, state });
  return { clientId: body.client_id, clientName, pkce: verifier, state, url };
}

export interface Tokens {
  readonly access_token: string;
  readonly refresh_token: string;
  readonly token_type: string;
  readonly scope?: string;
}

/** RFC 6749 §4.1.3 + RFC 7636 §4.5: the client redeems the code the browser brought back. */
export async function redeemCode(stack: Stack, auth: Authorization, code: string): Promise<{ status: number; body: Tokens }> {
  const res = await tokenRequest(stack.discovery, {
    grant_type: "authorization_code",
    code,
    redirect_uri: stack.app.redirectUri,
    client_id: auth.clientId,
    code_verifier: auth.pkce.verifier,
    resource: stack.discovery.resource.resource,
  });
  return { status: res.status, body: (await res.json()) as Tokens };
}

/** An MCP client (SDK v1) with the bearer token: initialize, then the whoami tool. */
export async function whoami(stack: Stack, accessToken: string): Promise<Identity> {
  const client = new Client({ name: "warden-browser-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(stack.server.mcpUrl), {
    requestInit: { headers: { authorization: `Bearer ${accessToken}` } },
  });
  await client.connect(transport);
  try {
    return identityOf((await client.callTool({ name: "whoami", arguments: {} })) as ToolResultLike);
  } finally {
    await client.close();
  }
}
