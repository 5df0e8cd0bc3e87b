// Black-box end-to-end for machine clients (RFC 6749 §4.4): a real `wrangler dev` started with
// ADMIN_EMAILS; the owner signs up through the pages with the official MCP SDK v1 client and
// registers a "compliance exporter" service client (role auditor) with register_client. The
// exporter then connects with the SDK's own ClientCredentialsProvider (client_secret_basic) and
// reads the audit trail over /mcp; a service account without the role is denied; a revoked
// token fails at the next request, and a disabled client gets no new one.

import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { auth as authV1, type OAuthClientProvider } from "@modelcontextprotocol/sdk/client/auth.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { completeAuthorization } from "./browser.ts";
import { MemoryOAuthProvider, randomEmail, randomPassword, type ProviderV1 } from "./oauth-provider.ts";
import { freePort, startDevServer, type DevServer } from "./server.ts";
import { structured, type ToolResultLike } from "./tool-results.ts";

let server: DevServer;
const clients: ClientV1[] = [];
const owner = { email: randomEmail("owner"), password: randomPassword() };

beforeAll(async () => {
  server = await startDevServer({ name: "service-account", vars: { ADMIN_EMAILS: owner.email } });
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await server?.stop();
});

type Call = (name: string, args?: Record<string, unknown>) => Promise<ToolResultLike>;

async function connect(provider: OAuthClientProvider, name: string): Promise<Call> {
  const client = new ClientV1({ name, version: "0.0.0" });
  await client.connect(new TransportV1(new URL(server.mcpUrl), { authProvider: provider }));
  clients.push(client);
  return async (tool, args = {}) => (await client.callTool({ name: tool, arguments: args })) as ToolResultLike;
}

/** The owner: SDK v1 runs discovery, DCR and PKCE; the person signs up and allows. */
async function ownerSession(): Promise<Call> {
  const scope = "account:read audit:read clients:manage";
  const provider: ProviderV1 = new MemoryOAuthProvider({ redirectUrl: `http://127.0.0.1:${await freePort()}/callback`, clientName: "Warden e2e owner console", scope });
  const serverUrl = new URL(server.mcpUrl);
  expect(await authV1(provider, { serverUrl, scope })).toBe("REDIRECT");
  const location = await completeAuthorization(provider.authorizationUrl!, { mode: "signup", ...owner, decision: "allow" });
  expect(await authV1(provider, { serverUrl, authorizationCode: location.searchParams.get("code")! })).toBe("AUTHORIZED");
  return connect(provider, "warden-e2e-owner");
}

interface Registered { client_id: string; client_secret: string; service_account_id: string }

const registerService = async (ownerCall: Call, name: string, roles: string[]) =>
  structured(
    await ownerCall("register_client", {
      client_name: name, grant_types: ["client_credentials"], scope: "account:read audit:read", service_account: { name, roles },
    }),
    "register_client",
  ) as unknown as Registered;

const exporterProvider = (client: Registered) =>
  new ClientCredentialsProvider({ clientId: client.client_id, clientSecret: client.client_secret, expectedIssuer: server.origin, scope: "account:read audit:read" });

const errorText = (result: ToolResultLike) => {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return (result.content as Array<{ text?: string }>).map((c) => c.text ?? "").join("\n");
};

/** A raw RFC 6749 §4.4.2 request, as any HTTP client would send it. */
const rawToken = (client: Registered) =>
  fetch(`${server.origin}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${client.client_id}:${client.client_secret}`)}` },
    body: new URLSearchParams({ grant_type: "client_credentials", scope: "audit:read" }),
  });

const rawMcp = (token: string) =>
  fetch(server.mcpUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });

describe("RFC 6749 §4.4: a compliance exporter service account over MCP", () => {
  let ownerCall: Call;
  let exporter: Registered;

  beforeAll(async () => {
    ownerCall = await ownerSession();
    exporter = await registerService(ownerCall, "compliance exporter", ["auditor"]);
  });

  it("the metadata advertises client_credentials, and the owner got a secret shown once", async () => {
    const metadata = (await (await fetch(`${server.origin}/.well-known/oauth-authorization-server`)).json()) as { grant_types_supported: string[] };
    expect(metadata.grant_types_supported).toContain("client_credentials");
    expect(exporter.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("with the SDK's ClientCredentialsProvider it calls query_audit as its own account", async () => {
    const call = await connect(exporterProvider(exporter), "compliance-exporter");
    const me = structured(await call("whoami"), "whoami");
    expect(me).toMatchObject({ accountId: exporter.service_account_id, email: null, roles: ["auditor", "member"] });
    const audit = structured(await call("query_audit", { account_id: exporter.service_account_id, limit: 10 }), "query_audit");
    expect(Array.isArray(audit.events)).toBe(true);
  });

  it("a service account without the auditor role is denied query_audit", async () => {
    const intern = await registerService(ownerCall, "intern script", []);
    const call = await connect(exporterProvider(intern), "intern-script");
    expect(errorText(await call("query_audit", {}))).toContain("missing permission audit.read");
  });

  it("RFC 7009: a revoked token fails at the very next MCP request", async () => {
    const res = await rawToken(exporter);
    expect(res.status).toBe(200);
    const { access_token, refresh_token } = (await res.json()) as { access_token: string; refresh_token?: string };
    expect(refresh_token).toBeUndefined();
    expect((await rawMcp(access_token)).status).toBe(200);
    const revoked = await fetch(`${server.origin}/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${exporter.client_id}:${exporter.client_secret}`)}` },
      body: new URLSearchParams({ token: access_token }),
    });
    expect(revoked.status).toBe(200);
    expect((await rawMcp(access_token)).status).toBe(401);
  });

  it("after disable_client the exporter's next call fails and it gets no new token", async () => {
    const doomed = await registerService(ownerCall, "retired exporter", ["auditor"]);
    const call = await connect(exporterProvider(doomed), "retired-exporter");
    structured(await call("whoami"), "whoami");
    structured(await ownerCall("disable_client", { client_id: doomed.client_id }), "disable_client");
    await expect(call("whoami")).rejects.toThrow();
    const res = await rawToken(doomed);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });
});
