// RFC 6750 §3.1 `insufficient_scope` and the MCP authorization spec's scope challenge at /mcp:
// a tools/call the token's scopes do not cover is answered 403 before the MCP SDK runs, with a
// challenge listing every scope needed (granted plus missing). Tokens here are real: a session
// issued through the account object, signed by the server's key. The SDK-driven re-authorization
// is proven end to end in test/e2e/step-up.test.ts.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SUPPORTED_SCOPES } from "../../domain/oauth.ts";
import { signAccessToken } from "../../src/keys.ts";
import { declaredGates } from "../../src/mcp/gates.ts";
import { buildServer } from "../../src/mcp/tools.ts";
import { allEvents, call, issueSession, ORIGIN, registeredAccount, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

/** A real session with `scopes`; its access token carries `tokenScopes` (a narrowed refresh) or the same. */
async function caller(scopes: string[], tokenScopes: string[] = scopes) {
  const account = await registeredAccount();
  const clientId = `client-${crypto.randomUUID()}`;
  const session = await issueSession(account.stub, { clientId, scopes });
  const token = await signAccessToken(env, ORIGIN, RESOURCE, { sub: account.accountId, sid: session.sessionId, client_id: clientId, scope: tokenScopes.join(" ") });
  return { ...account, sessionId: session.sessionId, token };
}

const mcp = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  call("/mcp", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

const toolCall = (name: string, args: Record<string, unknown> = {}, id: number = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });

/** The auth-params of a Bearer challenge (quoted strings unescaped). */
function challenge(res: Response): Record<string, string> {
  const header = res.headers.get("www-authenticate") ?? "";
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...header.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe("RFC 6750 §3.1: a call outside the token's scope is a 403 insufficient_scope challenge", () => {
  it("names every scope needed, granted plus missing, and where to discover how to get them", async () => {
    const { token } = await caller(["account:read"]);
    const res = await mcp(token, toolCall("revoke_session", { session_id: crypto.randomUUID() }));
    expect(res.status).toBe(403);
    const params = challenge(res);
    expect(params.error).toBe("insufficient_scope");
    expect(params.scope?.split(" ")).toEqual(["account:read", "account:manage"]);
    expect(params.resource_metadata).toBe(`${ORIGIN}/.well-known/oauth-protected-resource/mcp`);
    expect(params.error_description).toContain("revoke_session");
    expect(await res.json()).toMatchObject({ error: "insufficient_scope" });
    expect(res.headers.get("cache-control")).toContain("no-store");
  });

  it("is readable by browser clients: CORS exposes WWW-Authenticate, like the 401", async () => {
    const { token } = await caller(["account:read"]);
    const res = await mcp(token, toolCall("revoke_consent", { client_id: "x" }));
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
  });

  it("a batch lists the union once: the token's scopes, then each missing scope", async () => {
    const { token } = await caller(["account:read"]);
    const res = await mcp(token, [toolCall("whoami", {}, 1), toolCall("revoke_session", { session_id: "s" }, 2), toolCall("revoke_consent", { client_id: "c" }, 3)]);
    expect(res.status).toBe(403);
    expect(challenge(res).scope?.split(" ")).toEqual(["account:read", "account:manage"]);
  });

  it("keeps every granted scope, even ones this tool does not need, so a client that replaces its scope set loses nothing", async () => {
    const { token } = await caller(["account:manage"]);
    const res = await mcp(token, toolCall("whoami"));
    expect(res.status).toBe(403);
    expect(challenge(res).scope?.split(" ")).toEqual(["account:manage", "account:read"]);
  });

  it("records the refused call as ToolInvoked denied (missing scope), and runs nothing", async () => {
    const { token, stub, sessionId } = await caller(["account:read"]);
    const res = await mcp(token, toolCall("revoke_session", { session_id: sessionId }));
    expect(res.status).toBe(403);
    const events = await allEvents(stub);
    const invoked = events.filter((e) => e.type === "ToolInvoked").map((e) => e.data);
    expect(invoked).toEqual([expect.objectContaining({ tool: "revoke_session", outcome: "denied", reason: "missing scope account:manage" })]);
    expect(events.some((e) => e.type === "SessionRevoked"), "the tool did not run").toBe(false);
    expect(await stub.session(sessionId, Date.now())).toMatchObject({ live: true });
  });
});

describe("RFC 6749 §6: a token narrowed by refresh is held to its own scopes, not its session's", () => {
  it("the challenge and the tool gate both use the presented token's scopes", async () => {
    const { token, stub, sessionId } = await caller(["account:read", "account:manage"], ["account:read"]);
    const res = await mcp(token, toolCall("revoke_session", { session_id: sessionId }));
    expect(res.status).toBe(403);
    expect(challenge(res).scope?.split(" ")).toEqual(["account:read", "account:manage"]);
    const invoked = (await allEvents(stub)).filter((e) => e.type === "ToolInvoked").map((e) => e.data);
    expect(invoked).toEqual([expect.objectContaining({ tool: "revoke_session", outcome: "denied", reason: "missing scope account:manage" })]);
    expect(await stub.session(sessionId, Date.now())).toMatchObject({ live: true });
  });
});

describe("RFC 6750 §3.1: what is not a scope problem is not challenged", () => {
  it("a call within the token's scope reaches the tool", async () => {
    const { token } = await caller(["account:read", "account:manage"]);
    const res = await mcp(token, toolCall("revoke_session", { session_id: crypto.randomUUID() }));
    expect(res.status).not.toBe(403);
    expect(res.status).toBeLessThan(500);
  });

  it("a role (permission) failure stays a tool error, recorded as denied, with no challenge", async () => {
    const { token, stub } = await caller(["account:read"]); // a member: no accounts.read permission
    const res = await mcp(token, toolCall("list_accounts"));
    expect(res.status).not.toBe(403);
    expect(await res.text()).toContain("Permission denied");
    const invoked = (await allEvents(stub)).filter((e) => e.type === "ToolInvoked").map((e) => e.data);
    expect(invoked).toEqual([expect.objectContaining({ tool: "list_accounts", outcome: "denied", reason: "missing permission accounts.read" })]);
  });

  it("an unknown tool is left to the MCP SDK", async () => {
    const { token } = await caller(["account:read"]);
    const res = await mcp(token, toolCall("no_such_tool"));
    expect(res.status).not.toBe(403);
    expect(res.status).toBeLessThan(500);
  });

  it.each([
    ["malformed JSON", "{\"jsonrpc\": \"2.0\", \"method\": \"tools/call\", "],
    ["a JSON string", "\"tools/call\""],
    ["params that are not an object", JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: "revoke_session" })],
    ["a batch of nulls", "[null, 1, []]"],
  ])("%s is not challenged and is not a 500", async (_name, body) => {
    const { token } = await caller(["account:read"]);
    const res = await mcp(token, body);
    expect(res.status).not.toBe(403);
    expect(res.status).toBeLessThan(500);
  });
});

describe("MCP authorization: the gate registry the challenge reads cannot drift from the tools", () => {
  it("every tool the server lists has a declared gate, with a scope the server supports", async () => {
    const server = buildServer(env, new Request(`${ORIGIN}/mcp`));
    const listed = Object.keys((server as unknown as { _registeredTools: Record<string, unknown> })._registeredTools).sort();
    const declared = new Map(declaredGates().map((g) => [g.tool, g]));
    expect(listed.length).toBeGreaterThan(0);
    for (const tool of listed) {
      expect(declared.get(tool), `tool ${tool} declares its gate with defineGate`).toBeDefined();
      expect(SUPPORTED_SCOPES as ReadonlyArray<string>).toContain(declared.get(tool)!.scope);
    }
  });
});
