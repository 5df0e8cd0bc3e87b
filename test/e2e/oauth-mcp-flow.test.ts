// Black-box end-to-end: a real `wrangler dev`, real MCP clients of both SDK
// generations, the real HTML pages driven like a browser. The clients start from
// nothing but the /mcp URL: 401 challenge → RFC 9728 → RFC 8414 → DCR → PKCE →
// sign-up/sign-in → consent → code → tokens → tools → refresh.

import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError as UnauthorizedErrorV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedErrorV2,
  auth as authV2,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization, type Page } from "./browser.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV1, type ProviderV2 } from "./oauth-provider.ts";
import { discover, parseBearerChallenge, type Discovery } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { eventsOf, eventsTable, identityOf, type AccountEvent, type Identity, type ToolResultLike } from "./tool-results.ts";

let server: DevServer;
let discovery: Discovery;
/** Never listened on: the browser stops at the redirect and hands us the Location. */
let redirectUri: string;

const ownerEmail = randomEmail("owner");
const member = { email: randomEmail("member"), password: randomPassword() };
/** Filled by the v1 sign-up, read by later tests. */
let memberIdentity: Identity | undefined;

beforeAll(async () => {
  server = await startDevServer({ name: "oauth-mcp-flow", vars: { ADMIN_EMAILS: `ops@example.org,${ownerEmail}` } });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
  discovery = await discover(server.mcpUrl);
});

afterAll(async () => {
  await server?.stop();
});

const types = (events: readonly AccountEvent[]) => events.map((e) => e.type);
const indexOfType = (events: readonly AccountEvent[], type: string, pred: (e: AccountEvent) => boolean = () => true) =>
  events.findIndex((e) => e.type === type && pred(e));
const mentions = (e: AccountEvent, text: string) => JSON.stringify(e.raw).includes(text);

/** Newest first: sequence numbers strictly decrease, times never increase. */
function expectNewestFirst(events: readonly AccountEvent[]) {
  const seqs = events.map((e) => e.seq).filter((s): s is number => s !== undefined);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]!, eventsTable(events)).toBeLessThan(seqs[i - 1]!);
  const times = events.map((e) => (e.time === undefined ? NaN : Date.parse(e.time))).filter((t) => !Number.isNaN(t));
  for (let i = 1; i < times.length; i++) expect(times[i]!, eventsTable(events)).toBeLessThanOrEqual(times[i - 1]!);
}

function expectConsentPage(page: Page, clientName: string) {
  const text = page.document.text;
  expect(text, "consent page names the client").toContain(clientName);
  expect(text, "consent page names the redirect host").toContain(new URL(redirectUri).host);
  expect(text, "consent page names the scope").toContain("account:read");
}

function expectCallback(location: URL, state: string | undefined) {
  expect(`${location.origin}${location.pathname}`).toBe(redirectUri);
  expect(location.searchParams.get("error")).toBeNull();
  expect(location.searchParams.get("code")).toBeTruthy();
  expect(location.searchParams.get("state")).toBe(state);
  expect(location.searchParams.get("iss")).toBe(discovery.server.issuer); // RFC 9207
}

describe("discovery from the /mcp URL alone", () => {
  it("answers an unauthenticated MCP request with 401 and a resource_metadata challenge (RFC 9728 §5.1)", async () => {
    const res = await fetch(server.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    await res.body?.cancel();
    expect(res.status).toBe(401);
    const challenge = parseBearerChallenge(res.headers.get("www-authenticate"));
    expect(challenge?.resource_metadata).toBe(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
  });

  it("publishes protected resource and authorization server metadata a public PKCE client can use", () => {
    expect(discovery.resource.resource).toBe(server.mcpUrl);
    expect(discovery.resource.authorization_servers).toContain(discovery.server.issuer);
    const as = discovery.server;
    expect(as.code_challenge_methods_supported).toContain("S256");
    expect(as.response_types_supported).toContain("code");
    expect(as.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    expect(as.token_endpoint_auth_methods_supported).toContain("none");
    expect(as.scopes_supported ?? discovery.resource.scopes_supported).toContain("account:read");
  });
});

describe("MCP SDK v1 client (@modelcontextprotocol/sdk)", () => {
  const clientName = "Warden e2e (SDK v1)";
  let provider: ProviderV1;
  let client: ClientV1;

  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as ToolResultLike;

  it("signs up through DCR, PKCE and consent, then lists and calls the tools", async () => {
    provider = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName });
    const mcpUrl = new URL(server.mcpUrl);

    const first = new ClientV1({ name: "warden-e2e-v1", version: "0.0.0" });
    const firstTransport = new TransportV1(mcpUrl, { authProvider: provider });
    await expect(first.connect(firstTransport)).rejects.toBeInstanceOf(UnauthorizedErrorV1);
    await first.close();

    const authUrl = provider.authorizationUrl;
    expect(authUrl, "the SDK asked to send the user to /authorize").toBeDefined();
    expect(authUrl!.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authUrl!.searchParams.get("resource")).toBe(server.mcpUrl);

    let consent: Page | undefined;
    const location = await completeAuthorization(authUrl!, {
      mode: "signup",
      email: member.email,
      password: member.password,
      decision: "allow",
      observe: (step, page) => {
        if (step === "consent") consent = page;
      },
    });
    expectConsentPage(consent!, clientName);
    expectCallback(location, provider.lastState);

    await firstTransport.finishAuth(location.searchParams.get("code")!);
    expect(provider.tokens()?.access_token).toBeTruthy();
    expect(provider.tokens()?.refresh_token).toBeTruthy();

    client = new ClientV1({ name: "warden-e2e-v1", version: "0.0.0" });
    await client.connect(new TransportV1(mcpUrl, { authProvider: provider }));

    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["whoami", "my_events"]));

    const whoamiResult = await call("whoami");
    const me = identityOf(whoamiResult);
    expect(me.email).toBe(member.email);
    expect(me.roles).toEqual(["member"]);
    expect(me.scopes).toContain("account:read");
    expect(me.accountId).not.toBe("");
    expect(me.sessionId).not.toBe("");
    memberIdentity = me;

    const events = eventsOf(await call("my_events")).events;
    const table = eventsTable(events);
    expect(types(events), table).toEqual(expect.arrayContaining(["AccountRegistered", "SessionStarted", "ToolInvoked"]));
    expectNewestFirst(events);
    const invoked = indexOfType(events, "ToolInvoked", (e) => mentions(e, "whoami"));
    expect(invoked, `ToolInvoked for whoami\n${table}`).toBeGreaterThanOrEqual(0);
    expect(invoked, table).toBeLessThan(indexOfType(events, "SessionStarted"));
    expect(indexOfType(events, "SessionStarted"), table).toBeLessThan(indexOfType(events, "AccountRegistered"));
    for (const e of events) expect(JSON.stringify(e.raw), "no secret in an event").not.toContain(member.password);
  });

  it("pages through all of my_events with limit and the next cursor, without gaps or overlap", async () => {
    const all = eventsOf(await call("my_events", { limit: 100 }));
    expect(all.events.length).toBeGreaterThanOrEqual(5);
    expect(all.next, "no cursor when everything fit on one page").toBeUndefined();

    const paged: AccountEvent[] = [];
    let before: number | undefined;
    for (let pages = 0; pages < 50; pages++) {
      const page = eventsOf(await call("my_events", before === undefined ? { limit: 2 } : { limit: 2, before }));
      expect(page.events.length).toBeLessThanOrEqual(2);
      paged.push(...page.events);
      if (page.next === undefined) break;
      before = page.next;
    }
    expectNewestFirst(paged);
    // The log only grows at the head (each my_events call appends a ToolInvoked), so the
    // oldest events paged are exactly the oldest events listed in one go.
    const oldest = all.events.slice(-5).map((e) => JSON.stringify(e.raw));
    expect(paged.slice(-5).map((e) => JSON.stringify(e.raw))).toEqual(oldest);
    const ids = paged.map((e) => JSON.stringify(e.raw));
    expect(new Set(ids).size, "pages do not overlap").toBe(ids.length);
    const seqs = paged.map((e) => e.seq);
    if (seqs.every((x) => x !== undefined)) {
      expect(seqs.at(-1), "paging reaches the first event").toBe(1);
    }
  });

  it("answers invalid tool input with an MCP tool error, not a protocol failure", async () => {
    for (const args of [{ limit: -5 }, { limit: "ten" }, { before: "yesterday" }]) {
      const result = await call("my_events", args);
      expect(result.isError, JSON.stringify(args)).toBe(true);
    }
  });

  it("refreshes an expired access token, rotates the refresh token and keeps working", async () => {
    const before = provider.tokens()!;
    provider.spoilAccessToken(); // the next request gets 401 invalid_token; the SDK refreshes and retries

    const me = identityOf(await call("whoami"));
    expect(me.accountId).toBe(memberIdentity?.accountId);
    expect(me.sessionId, "a refresh continues the same session").toBe(memberIdentity?.sessionId);

    const after = provider.tokens()!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token).toBeTruthy();
    expect(after.refresh_token, "refresh tokens rotate").not.toBe(before.refresh_token);

    const events = eventsOf(await call("my_events")).events;
    expect(types(events), eventsTable(events)).toContain("TokenRefreshed");
    await client.close();
  });
});

describe("MCP SDK v2 client (@modelcontextprotocol/client)", () => {
  const connectV2 = async (provider: ProviderV2) => {
    const client = new ClientV2({ name: "warden-e2e-v2", version: "0.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(new TransportV2(new URL(server.mcpUrl), { authProvider: provider }));
    return client;
  };

  /** Runs the interactive authorization with a v2 transport and returns a connected client. */
  async function authorizeV2(clientName: string, mode: "signup" | "signin", email: string, password: string) {
    const provider: ProviderV2 = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName });
    const first = new ClientV2({ name: "warden-e2e-v2", version: "0.0.0" }, { versionNegotiation: { mode: "auto" } });
    const firstTransport = new TransportV2(new URL(server.mcpUrl), { authProvider: provider });
    const failure = await first.connect(firstTransport).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure, "connect without a token fails").toBeInstanceOf(UnauthorizedErrorV2);
    await first.close();
    expect(provider.authorizationUrl, `the SDK asked to send the user to /authorize (${String(failure)})`).toBeDefined();

    let consent: Page | undefined;
    const location = await completeAuthorization(provider.authorizationUrl!, {
      mode,
      email,
      password,
      decision: "allow",
      observe: (step, page) => {
        if (step === "consent") consent = page;
      },
    });
    expectConsentPage(consent!, clientName);
    expectCallback(location, provider.lastState);
    await firstTransport.finishAuth(location.searchParams); // validates iss (RFC 9207)
    return { provider, client: await connectV2(provider) };
  }

  const callV2 = async (client: ClientV2, name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as ToolResultLike;

  it("signs in with the existing account, sees its own events, and refreshes", async () => {
    expect(memberIdentity, "the v1 test created the account").toBeDefined();
    const { provider, client } = await authorizeV2("Warden e2e (SDK v2)", "signin", member.email, member.password);

    expect(client.getProtocolEra(), "SDK v2 negotiates the 2026 protocol").toBe("modern");
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["whoami", "my_events"]));

    const me = identityOf(await callV2(client, "whoami"));
    expect(me.accountId).toBe(memberIdentity!.accountId);
    expect(me.email).toBe(member.email);
    expect(me.roles).toEqual(["member"]);
    expect(me.scopes).toContain("account:read");
    expect(me.sessionId, "a new authorization is a new session").not.toBe(memberIdentity!.sessionId);

    let events = eventsOf(await callV2(client, "my_events", { limit: 100 })).events;
    expectNewestFirst(events);
    expect(types(events), eventsTable(events)).toEqual(
      expect.arrayContaining(["AccountRegistered", "LoginSucceeded", "SessionStarted", "TokenRefreshed", "ToolInvoked"]),
    );
    const refreshedBefore = types(events).filter((t) => t === "TokenRefreshed").length;

    // The SDK's own refresh path: auth() with a stored refresh token refreshes.
    const before = provider.tokens()!;
    expect(await authV2(provider, { serverUrl: new URL(server.mcpUrl) })).toBe("AUTHORIZED");
    const after = provider.tokens()!;
    expect(after.access_token).not.toBe(before.access_token);
    expect(after.refresh_token, "refresh tokens rotate").not.toBe(before.refresh_token);

    const again = identityOf(await callV2(client, "whoami"));
    expect(again.sessionId).toBe(me.sessionId);
    events = eventsOf(await callV2(client, "my_events", { limit: 100 })).events;
    expect(types(events).filter((t) => t === "TokenRefreshed").length, eventsTable(events)).toBe(refreshedBefore + 1);
    await client.close();
  });

  it("grants owner to an ADMIN_EMAILS address at sign-up, recorded with the system as actor", async () => {
    const { client } = await authorizeV2("Warden e2e (SDK v2, owner)", "signup", ownerEmail, randomPassword());
    const me = identityOf(await callV2(client, "whoami"));
    expect(me.email).toBe(ownerEmail);
    expect(me.roles).toContain("owner");

    const events = eventsOf(await callV2(client, "my_events", { limit: 100 })).events;
    const table = eventsTable(events);
    const granted = events.find((e) => e.type === "RoleGranted" && mentions(e, "owner"));
    expect(granted, `RoleGranted owner\n${table}`).toBeDefined();
    expect(granted!.actor.toLowerCase(), table).toContain("system");
    await client.close();
  });
});
