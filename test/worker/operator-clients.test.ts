// Pre-registered clients created by an operator (MCP tools register_client, disable_client),
// and what Dynamic Client Registration may not do (RFC 7591 §2: the server decides which grant
// types a registration may have).

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, allEvents, call, codeRequest, jsonBody, meta, registeredAccount, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import {
  callTool, clientCredentials, errorText, mcpPost, operatorSession, postBasic, registerViaTool, serviceClient, serviceToken,
} from "./machine-clients.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const REDIRECT = "https://app.example/callback";
const registry = (clientId: string) => env.CLIENTS.get(env.CLIENTS.idFromName(clientId));
const toolCalls = async (accountId: string) =>
  (await allEvents(accountStub(accountId))).filter((e) => e.type === "ToolInvoked").map((e) => e.data as { tool: string; outcome: string; reason: string | null });

describe("register_client: an admin pre-registers an authorization_code client", () => {
  it("returns the complete metadata with the secret once; registered_by names the operator; the secret works at /token", async () => {
    const operator = await operatorSession();
    const client = await registerViaTool(operator, { client_name: "Partner portal", redirect_uris: [REDIRECT], scope: "account:read" });
    expect(client).toMatchObject({
      kind: "operator", registered_by: operator.accountId, redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"], token_endpoint_auth_method: "client_secret_basic", scope: "account:read", client_secret_expires_at: 0,
    });
    expect(client.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await registry(client.client_id).get()).not.toHaveProperty("client_secret");

    const { stub } = await registeredAccount();
    const request = codeRequest({ clientId: client.client_id, redirectUri: REDIRECT });
    const approved = await stub.approve(request, meta());
    if (!approved.ok) throw new Error(approved.reason);
    const res = await postBasic("/token", client.client_id, client.client_secret!, {
      grant_type: "authorization_code", code: approved.value.code, redirect_uri: REDIRECT, code_verifier: request.verifier,
    });
    expect(res.status).toBe(200);
  });

  it("the call is recorded as ToolInvoked (allowed) in the operator's own log", async () => {
    const operator = await operatorSession();
    await registerViaTool(operator, { client_name: "Recorded", redirect_uris: [REDIRECT] });
    expect(await toolCalls(operator.accountId)).toEqual([expect.objectContaining({ tool: "register_client", outcome: "allowed" })]);
  });
});

describe("register_client is for admins and owners with the clients:manage scope", () => {
  it("an operator (below admin) is denied: missing permission clients.manage, recorded as denied", async () => {
    const operator = await operatorSession("operator");
    expect(errorText(await callTool(operator.accessToken, "register_client", { client_name: "x", redirect_uris: [REDIRECT] }))).toContain("clients.manage");
    expect(await toolCalls(operator.accountId)).toEqual([expect.objectContaining({ tool: "register_client", outcome: "denied", reason: "missing permission clients.manage" })]);
  });

  it("RFC 6750 §3.1: an admin whose token lacks clients:manage gets 403 insufficient_scope naming it, and the tool does not run", async () => {
    const admin = await operatorSession("admin", ["account:read"]);
    const res = await mcpPost(admin.accessToken, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "register_client", arguments: { client_name: "x", redirect_uris: [REDIRECT] } } });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/error="insufficient_scope".*scope="account:read clients:manage"/);
    expect((await toolCalls(admin.accountId)).filter((c) => c.outcome === "allowed")).toEqual([]);
  });

  it("an admin may create an admin service account but never an owner one", async () => {
    const admin = await operatorSession("admin");
    expect((await serviceClient(admin, ["admin"])).kind).toBe("service");
    const refused = errorText(await callTool(admin.accessToken, "register_client", {
      client_name: "Too strong", grant_types: ["client_credentials"], service_account: { name: "root", roles: ["owner"] },
    }));
    expect(refused).toContain("role owner is above");
  });
});

describe("register_client refuses inconsistent clients with a tool error and registers nothing", () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["client_credentials mixed with authorization_code", { grant_types: ["client_credentials", "authorization_code"], service_account: { name: "s", roles: [] } }, "cannot be combined"],
    ["a service client without a service account", { grant_types: ["client_credentials"] }, "needs service_account"],
    ["a public service client", { grant_types: ["client_credentials"], token_endpoint_auth_method: "none", service_account: { name: "s", roles: [] } }, "must be confidential"],
    ["a public resource server", { grant_types: [], token_endpoint_auth_method: "none" }, "must be confidential"],
    ["a service account on a code client", { redirect_uris: [REDIRECT], service_account: { name: "s", roles: [] } }, "only for client_credentials"],
    ["redirect_uris on a service client", { grant_types: ["client_credentials"], redirect_uris: [REDIRECT], service_account: { name: "s", roles: [] } }, "only for authorization_code"],
    ["a code client without redirect_uris", {}, "at least one redirect_uri"],
    ["an http redirect that is not loopback", { redirect_uris: ["http://app.example/cb"] }, "loopback"],
    ["refresh_token alone", { grant_types: ["refresh_token"], redirect_uris: [REDIRECT] }, "must include authorization_code"],
    ["an unknown scope", { redirect_uris: [REDIRECT], scope: "account:read root" }, "unknown scope root"],
    ["a resource server for another resource", { grant_types: [], resources: ["https://elsewhere.example/mcp"] }, "one resource"],
  ];
  it.each(cases)("%s", async (_, input, message) => {
    const operator = await operatorSession();
    expect(errorText(await callTool(operator.accessToken, "register_client", { client_name: "Bad", ...input }))).toContain(message);
  });

  it("a malformed input (unknown grant type, control characters in the name) is refused by the input schema", async () => {
    const operator = await operatorSession();
    for (const input of [{ client_name: "x", grant_types: ["implicit"] }, { client_name: "evil\u202Ename", redirect_uris: [REDIRECT] }]) {
      const res = await mcpPost(operator.accessToken, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "register_client", arguments: input } });
      const body = await res.text();
      expect(body).toMatch(/"isError":\s*true|"error"/);
      expect(body).not.toContain("client_secret");
    }
  });
});

describe("RFC 7591 §2: dynamic registration cannot create client_credentials clients", () => {
  it.each([[["client_credentials"]], [["authorization_code", "client_credentials"]]])("grant_types %j is invalid_client_metadata", async (grantTypes) => {
    const res = await call("/register", jsonBody({ client_name: "Sneaky", redirect_uris: [REDIRECT], grant_types: grantTypes, token_endpoint_auth_method: "client_secret_basic" }));
    expect(res.status).toBe(400);
    expect(res.headers.get("cache-control")).toContain("no-store");
    expect(await res.json()).toMatchObject({ error: "invalid_client_metadata" });
  });
});

describe("disable_client: an operator disables a client for good", () => {
  it("a disabled service client: its live token fails at the next /mcp call, and it gets no new token", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const { access_token } = await serviceToken(client);
    expect((await callTool(access_token, "whoami")).isError).not.toBe(true);
    const disabled = await callTool(operator.accessToken, "disable_client", { client_id: client.client_id });
    expect(disabled.structuredContent).toMatchObject({ client_id: client.client_id, kind: "service", service_account_closed: true });
    expect((await mcpPost(access_token, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })).status).toBe(401);
    const again = await clientCredentials(client);
    expect(again.status).toBe(401);
    expect(await again.json()).toMatchObject({ error: "invalid_client" });
    const closed = (await allEvents(accountStub(client.service_account_id!))).find((e) => e.type === "AccountClosed")!;
    expect(closed.data).toMatchObject({ reason: "client disabled" });
    expect(closed.metadata.actor).toEqual({ kind: "user", id: operator.accountId });
  });

  it("a disabled code client is unknown everywhere: /token says invalid_client, /authorize shows no redirect", async () => {
    const operator = await operatorSession();
    const client = await registerViaTool(operator, { client_name: "Old app", redirect_uris: [REDIRECT] });
    await callTool(operator.accessToken, "disable_client", { client_id: client.client_id });
    const token = await postBasic("/token", client.client_id, client.client_secret!, { grant_type: "authorization_code", code: "x.y", redirect_uri: REDIRECT, code_verifier: "v".repeat(43) });
    expect(token.status).toBe(401);
    const authorize = await call(`/authorize?response_type=code&client_id=${client.client_id}&redirect_uri=${encodeURIComponent(REDIRECT)}&code_challenge=${"a".repeat(43)}&code_challenge_method=S256`);
    expect(authorize.status).toBe(400);
    expect(authorize.headers.get("location")).toBeNull();
  });

  it("disabling twice keeps the first record; an unknown client is a tool error; a member may not disable", async () => {
    const operator = await operatorSession();
    const client = await registerViaTool(operator, { client_name: "Twice", redirect_uris: [REDIRECT] });
    const first = (await callTool(operator.accessToken, "disable_client", { client_id: client.client_id })).structuredContent!;
    const second = (await callTool(operator.accessToken, "disable_client", { client_id: client.client_id })).structuredContent!;
    expect(second.disabled_at).toBe(first.disabled_at);
    expect(errorText(await callTool(operator.accessToken, "disable_client", { client_id: "no-such-client" }))).toContain("unknown client");
    const member = await operatorSession(null);
    const other = await registerViaTool(operator, { client_name: "Kept", redirect_uris: [REDIRECT] });
    expect(errorText(await callTool(member.accessToken, "disable_client", { client_id: other.client_id }))).toContain("clients.manage");
    expect(await registry(other.client_id).get()).not.toBeNull();
  });
});
