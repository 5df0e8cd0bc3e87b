// Warden demo: an MCP client that knows nothing but the /mcp URL signs a new user
// up, gets consent, calls the tools, refreshes its token, and prints the account's
// own event log. Every HTTP exchange is printed as it happens.
//
//   npm start            # in one terminal
//   npm run demo         # in another; or: npm run demo -- http://127.0.0.1:8787
//
// The URL may also come from WARDEN_URL. Exits non-zero with a reason on failure.

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { Browser, completeAuthorization, type FetchLike } from "../test/e2e/browser.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV1 } from "../test/e2e/oauth-provider.ts";
import { freePort } from "../test/e2e/server.ts";
import { eventsOf, eventsTable, identityOf, type ToolResultLike } from "../test/e2e/tool-results.ts";

const color = process.stdout.isTTY && process.env.NO_COLOR === undefined;
const paint = (code: string, s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
const dim = (s: string) => paint("2", s);
const bold = (s: string) => paint("1", s);

const SECRET_PARAMS = ["code", "code_verifier", "refresh_token", "access_token", "password", "request", "ticket"];

/** Readable `k=v&…` with secrets (codes, tokens, passwords, signed form state) hidden. */
function redactParams(params: URLSearchParams): string {
  return [...params]
    .map(([k, v]) => `${k}=${SECRET_PARAMS.includes(k) && v !== "" ? "…" : v.length > 60 ? `${v.slice(0, 40)}…` : v}`)
    .join("&");
}

function redactUrl(raw: string): string {
  const url = new URL(raw);
  return url.search === "" ? url.href : `${url.origin}${url.pathname}?${redactParams(url.searchParams)}`;
}

/** A short description of a request body: JSON-RPC method, form fields, token grant. */
function describeBody(body: unknown): string {
  if (body instanceof URLSearchParams) return ` [${redactParams(body)}]`;
  if (typeof body !== "string" || body === "") return "";
  try {
    const msg = JSON.parse(body) as { method?: string; params?: { name?: string }; client_name?: string };
    if (msg.method !== undefined) return ` {${msg.method}${msg.params?.name === undefined ? "" : ` ${msg.params.name}`}}`;
    if (msg.client_name !== undefined) return ` {register "${msg.client_name}"}`;
    return "";
  } catch {
    return ` [${redactParams(new URLSearchParams(body))}]`;
  }
}

const SHOWN_HEADERS = ["location", "www-authenticate", "content-type", "cache-control", "mcp-session-id"];

const loggingFetch: FetchLike = async (input, init) => {
  const method = init?.method ?? "GET";
  const url = String(input);
  const line = `  ${bold(method.padEnd(4))} ${redactUrl(url)}${dim(describeBody(init?.body))}`;
  let res: Response;
  try {
    res = await fetch(input, init);
  } catch (error) {
    console.log(`${line}\n       ${paint("31", `network error: ${error instanceof Error ? error.message : String(error)}`)}`);
    throw error;
  }
  console.log(line);
  const status = `${res.status}${res.statusText === "" ? "" : ` ${res.statusText}`}`;
  console.log(`       ${res.ok ? paint("32", status) : res.status < 400 ? paint("36", status) : paint("33", status)}`);
  for (const name of SHOWN_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) console.log(dim(`       ${name}: ${name === "location" ? redactUrl(new URL(value, url).href) : value}`));
  }
  const cookies = res.headers.getSetCookie().map((c) => c.split("=")[0]);
  if (cookies.length > 0) console.log(dim(`       set-cookie: ${cookies.join(", ")}`));
  return res;
};

let stepNo = 0;
const step = (title: string) => console.log(`\n${bold(`${++stepNo}. ${title}`)}`);
const note = (text: string) => console.log(`   ${paint("35", "→")} ${text}`);

function targetUrl(): URL {
  const raw = process.argv[2] ?? process.env.WARDEN_URL ?? "http://127.0.0.1:8787";
  if (!URL.canParse(raw)) throw new Error(`not a URL: ${raw} (expected e.g. http://127.0.0.1:8787)`);
  const url = new URL(raw);
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/mcp";
  return url;
}

async function main() {
  const mcpUrl = targetUrl();
  const email = randomEmail("demo");
  const password = randomPassword();
  const redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  const provider: ProviderV1 = new MemoryOAuthProvider({
    redirectUrl: redirectUri,
    clientName: "Warden demo client",
  });
  const transportOptions = { authProvider: provider, fetch: loggingFetch };
  console.log(bold(`Warden demo against ${mcpUrl.href}`));
  console.log(`   new user ${email}, client redirect URI ${redirectUri} (never listened on)`);

  step("Connect with no token: the server challenges, the SDK discovers, registers and starts PKCE");
  const probe = new Client({ name: "warden-demo", version: "0.1.0" });
  const probeTransport = new StreamableHTTPClientTransport(mcpUrl, transportOptions);
  try {
    await probe.connect(probeTransport);
    throw new Error("the server accepted an MCP connection without a token");
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error;
  }
  await probe.close();
  const authorizationUrl = provider.authorizationUrl;
  if (authorizationUrl === undefined) throw new Error("the SDK did not ask to send the user to the authorization endpoint");
  note(`the client would now open the browser at ${redactUrl(authorizationUrl.href)}`);

  step("The user signs up and allows access (HTML forms, no JavaScript)");
  const location = await completeAuthorization(authorizationUrl, {
    mode: "signup",
    email,
    password,
    decision: "allow",
    browser: new Browser(loggingFetch),
  });
  const code = location.searchParams.get("code");
  if (code === null) throw new Error(`the consent redirect carries no code: ${redactUrl(location.href)}`);
  if (location.searchParams.get("state") !== provider.lastState) throw new Error("the redirect's state does not match the request's");
  note(`redirected back with a code, the same state, and iss=${location.searchParams.get("iss")}`);

  step("The client exchanges the code (with its PKCE verifier) for tokens");
  await probeTransport.finishAuth(code);
  note(`got an access token and a refresh token (${provider.tokens()?.scope ?? "no scope echoed"})`);

  step("Connect again with the access token and list the tools");
  const client = new Client({ name: "warden-demo", version: "0.1.0" });
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, transportOptions));
  const tools = (await client.listTools()).tools;
  for (const tool of tools) note(`${tool.name}: ${tool.description ?? ""}`);

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as ToolResultLike;

  step("Call whoami");
  const me = identityOf(await call("whoami"));
  note(`account ${me.accountId}, ${me.email}, roles [${me.roles.join(", ")}], scopes [${me.scopes.join(", ")}], session ${me.sessionId}`);
  if (me.email !== email) throw new Error(`whoami says ${me.email}, expected ${email}`);

  step("The access token expires: the server says 401, the SDK refreshes and retries");
  const before = provider.tokens()?.refresh_token;
  provider.spoilAccessToken();
  const again = identityOf(await call("whoami"));
  if (again.accountId !== me.accountId) throw new Error("after the refresh, whoami names another account");
  note(`still ${again.email}; refresh token ${provider.tokens()?.refresh_token !== before ? "rotated" : "NOT rotated"}`);

  step("Call my_events: the account's own event log, newest first");
  const page = eventsOf(await call("my_events", { limit: 50 }));
  await client.close();
  console.log(`\n${eventsTable(page.events)}`);
  if (page.next !== undefined) console.log(dim(`(more: before=${page.next})`));
  console.log(`\n${paint("32", "Demo finished.")}`);
}

main().catch((error: unknown) => {
  const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : "";
  const message = error instanceof Error ? `${error.message}${cause}` : String(error);
  console.error(`\n${paint("31", "Demo failed:")} ${message}`);
  if (/fetch failed|ECONNREFUSED/.test(message)) {
    console.error(`Is the server running? Start it with \`npm start\`, or pass its URL: npm run demo -- http://127.0.0.1:8787`);
  }
  process.exitCode = 1;
});
