// Step-up authorization end to end (RFC 6750 §3.1, MCP authorization "Scope Challenge
// Handling"): an official SDK v2 client authorized with only account:read calls revoke_session
// (needs account:manage), gets the 403 insufficient_scope challenge, sends the person through
// the pages again for the union of scopes, and its retry succeeds.

import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  UnauthorizedError as UnauthorizedErrorV2,
} from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization, type Page } from "./browser.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV2 } from "./oauth-provider.ts";
import { parseBearerChallenge } from "./oauth-raw.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { identityOf, structured, type ToolResultLike } from "./tool-results.ts";

let server: DevServer;
let redirectUri: string;
const person = { email: randomEmail("stepup"), password: randomPassword() };

beforeAll(async () => {
  server = await startDevServer({ name: "step-up" });
  redirectUri = `http://127.0.0.1:${await freePort()}/callback`;
});

afterAll(async () => {
  await server?.stop();
});

interface Seen {
  readonly status: number;
  readonly challenge: Record<string, string> | undefined;
}

describe("MCP Scope Challenge Handling: the SDK client steps up and converges", () => {
  const seen: Seen[] = [];
  const recording = async (input: string | URL | Request, init?: RequestInit) => {
    const res = await fetch(input, init);
    if (String(input instanceof Request ? input.url : input) === server.mcpUrl) {
      seen.push({ status: res.status, challenge: parseBearerChallenge(res.headers.get("www-authenticate")) });
    }
    return res;
  };
  let provider: ProviderV2;
  let client: ClientV2;
  let transport: TransportV2;
  let firstSession = "";

  const authorize = async (mode: "signup" | "signin") => {
    let consent: Page | undefined;
    const location = await completeAuthorization(provider.authorizationUrl!, {
      mode,
      ...person,
      decision: "allow",
      observe: (step, page) => {
        if (step === "consent") consent = page;
      },
    });
    await transport.finishAuth(location.searchParams);
    return consent;
  };

  it("first authorizes with account:read only, the scope the 401 challenge names", async () => {
    provider = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName: "Warden step-up e2e", scope: "account:read" });
    transport = new TransportV2(new URL(server.mcpUrl), { authProvider: provider, fetch: recording });
    client = new ClientV2({ name: "warden-step-up", version: "0.0.0" }, { versionNegotiation: { mode: "auto" } });
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedErrorV2);
    expect(provider.authorizationUrl?.searchParams.get("scope")).toBe("account:read");
    await authorize("signup");
    transport = new TransportV2(new URL(server.mcpUrl), { authProvider: provider, fetch: recording });
    client = new ClientV2({ name: "warden-step-up", version: "0.0.0" }, { versionNegotiation: { mode: "auto" } });
    await client.connect(transport);
    const me = identityOf((await client.callTool({ name: "whoami", arguments: {} })) as ToolResultLike);
    expect(me.scopes).toEqual(["account:read"]);
    firstSession = me.sessionId;
  });

  it("a call needing account:manage gets 403 insufficient_scope listing granted plus missing, and the SDK asks for exactly that", async () => {
    provider.authorizationUrl = undefined;
    seen.length = 0;
    const attempt = client.callTool({ name: "revoke_session", arguments: { session_id: firstSession } });
    await expect(attempt).rejects.toBeInstanceOf(UnauthorizedErrorV2); // the person must be sent to the pages
    const forbidden = seen.find((s) => s.status === 403);
    expect(forbidden?.challenge?.error).toBe("insufficient_scope");
    expect(forbidden?.challenge?.scope?.split(" ")).toEqual(["account:read", "account:manage"]);
    expect(forbidden?.challenge?.resource_metadata).toBe(`${server.origin}/.well-known/oauth-protected-resource/mcp`);
    const asked = (provider as { authorizationUrl: URL | undefined }).authorizationUrl; // set again by the SDK
    expect(asked?.searchParams.get("scope")?.split(" ").sort()).toEqual(["account:manage", "account:read"]);
  });

  it("after the person consents to the union, the retried call succeeds with the new token", async () => {
    const consent = await authorize("signin");
    expect(consent?.document.text, "the consent page asks for the new scope").toContain("account:manage");
    const result = structured((await client.callTool({ name: "revoke_session", arguments: { session_id: firstSession } })) as ToolResultLike, "revoke_session");
    expect(JSON.stringify(result)).toContain("SessionRevoked");
    const me = identityOf((await client.callTool({ name: "whoami", arguments: {} })) as ToolResultLike);
    expect(me.scopes.slice().sort()).toEqual(["account:manage", "account:read"]);
    expect(me.sessionId, "the step-up is a new session").not.toBe(firstSession);
    await client.close();
  });
});

describe("RFC 6750 §3.1 on the wire", () => {
  let token = "";
  beforeAll(async () => {
    const provider: ProviderV2 = new MemoryOAuthProvider({ redirectUrl: redirectUri, clientName: "Warden raw step-up", scope: "account:read" });
    const transport = new TransportV2(new URL(server.mcpUrl), { authProvider: provider });
    const client = new ClientV2({ name: "warden-step-up-raw", version: "0.0.0" });
    await expect(client.connect(transport)).rejects.toBeInstanceOf(UnauthorizedErrorV2);
    const location = await completeAuthorization(provider.authorizationUrl!, { mode: "signin", ...person, decision: "allow" });
    await transport.finishAuth(location.searchParams);
    await client.close();
    token = provider.tokens()!.access_token;
  });

  const post = (body: string) =>
    fetch(server.mcpUrl, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${token}` },
      body,
    });
  const call = (name: string, id: number) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });

  it("a batch with one covered and two uncovered calls: 403, every needed scope listed once", async () => {
    const res = await post(JSON.stringify([call("whoami", 1), call("revoke_session", 2), call("revoke_consent", 3)]));
    await res.body?.cancel();
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-expose-headers")).toContain("WWW-Authenticate");
    const challenge = parseBearerChallenge(res.headers.get("www-authenticate"));
    expect(challenge?.error).toBe("insufficient_scope");
    expect(challenge?.scope?.split(" ")).toEqual(["account:read", "account:manage"]);
  });

  it("a malformed JSON body is answered by the MCP layer, never with a 500 or a challenge", async () => {
    const res = await post('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"revoke_session"');
    await res.body?.cancel();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.status).not.toBe(403);
  });
});
