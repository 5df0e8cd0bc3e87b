// client_credentials for service accounts (RFC 6749 §4.4), through the Worker: an operator
// registers a service client with register_client; the client gets short tokens for its own
// service account, which acts at /mcp with its own roles, and stops at once when revoked.

import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, allEvents, call, form, meta, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import {
  callTool, claimsOf, clientCredentials, errorText, mcpPost, operatorSession, postBasic, registerViaTool, serviceClient, serviceToken,
} from "./machine-clients.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const sessionsOf = async (accountId: string) => (await allEvents(accountStub(accountId))).filter((e) => e.type === "SessionStarted");

describe("RFC 6749 §4.4.2–4.4.3: a service client gets an access token for its service account", () => {
  it("returns a Bearer JWT whose sub is the service account and sid a session in it, and no refresh token", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const token = await serviceToken(client);
    expect(token).toMatchObject({ token_type: "Bearer", expires_in: 600, scope: "account:read audit:read" });
    expect(token.refresh_token).toBeUndefined();
    const claims = claimsOf(token.access_token);
    expect(claims).toMatchObject({ sub: client.service_account_id, client_id: client.client_id, scope: "account:read audit:read" });
    const [started] = await sessionsOf(client.service_account_id!);
    expect(started!.data).toMatchObject({ sessionId: claims.sid, clientId: client.client_id, amr: [] });
    // The session lives exactly as long as the access token.
    expect((started!.data as { expiresAt: number }).expiresAt).toBeLessThanOrEqual(started!.metadata.at + 600_000);
    expect(started!.metadata.actor).toEqual({ kind: "client", id: client.client_id });
  });

  it("the token acts at /mcp as the service account, with its own roles (auditor may query_audit)", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const { access_token } = await serviceToken(client);
    const me = (await callTool(access_token, "whoami")).structuredContent!;
    expect(me).toMatchObject({ accountId: client.service_account_id, email: null, clientId: client.client_id });
    expect(me.roles).toEqual(["auditor", "member"]);
    const audit = await callTool(access_token, "query_audit", { account_id: client.service_account_id, limit: 5 });
    expect(audit.isError).not.toBe(true);
  });

  it("a service account without the role is denied, and the denial is recorded in its own log", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator, []);
    const { access_token } = await serviceToken(client);
    expect(errorText(await callTool(access_token, "query_audit", {}))).toContain("missing permission audit.read");
    const denied = (await allEvents(accountStub(client.service_account_id!))).filter((e) => e.type === "ToolInvoked");
    expect(denied.map((e) => e.data)).toEqual([expect.objectContaining({ tool: "query_audit", outcome: "denied" })]);
  });

  it("each request is a fresh short session (no token is shared between requests)", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const one = claimsOf((await serviceToken(client)).access_token);
    const two = claimsOf((await serviceToken(client)).access_token);
    expect(one.sid).not.toBe(two.sid);
    expect(await sessionsOf(client.service_account_id!)).toHaveLength(2);
  });
});

describe("RFC 6749 §3.3: scope is at most what the operator registered", () => {
  it("a narrower scope is granted as asked", async () => {
    const client = await serviceClient(await operatorSession());
    expect((await serviceToken(client, { scope: "audit:read" })).scope).toBe("audit:read");
  });

  it("a scope outside the registration, or an unknown one, is invalid_scope and starts no session", async () => {
    const client = await serviceClient(await operatorSession());
    for (const scope of ["audit:read accounts:read", "clients:manage", "nope"]) {
      const res = await clientCredentials(client, { scope });
      expect(res.status).toBe(400);
      expect(res.headers.get("cache-control")).toContain("no-store");
      expect(await res.json()).toMatchObject({ error: "invalid_scope" });
    }
    expect(await sessionsOf(client.service_account_id!)).toHaveLength(0);
  });
});

describe("RFC 8707 §2: the resource is checked like every grant", () => {
  it("another resource is invalid_target and starts no session", async () => {
    const client = await serviceClient(await operatorSession());
    const res = await clientCredentials(client, { resource: "https://elsewhere.example/mcp" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "invalid_target" });
    expect(await sessionsOf(client.service_account_id!)).toHaveLength(0);
  });
  it("this server's /mcp resource is accepted", async () => {
    const client = await serviceClient(await operatorSession());
    expect(claimsOf((await serviceToken(client, { resource: "https://warden.test/mcp" })).access_token).aud).toBe("https://warden.test/mcp");
  });
});

describe("RFC 6749 §4.4 and §5.2: only a confidential client registered for the grant", () => {
  it("a wrong secret is 401 invalid_client and starts no session", async () => {
    const client = await serviceClient(await operatorSession());
    const res = await postBasic("/token", client.client_id, "wrong-secret", { grant_type: "client_credentials" });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
    expect(await sessionsOf(client.service_account_id!)).toHaveLength(0);
  });

  it("a code client (operator-registered or dynamic) asking for client_credentials is unauthorized_client", async () => {
    const operator = await operatorSession();
    const code = await registerViaTool(operator, { client_name: "Web app", redirect_uris: ["https://app.example/cb"] });
    const res = await postBasic("/token", code.client_id, code.client_secret!, { grant_type: "client_credentials" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
    const dynamic = await call("/token", form({ grant_type: "client_credentials", client_id: operator.clientId }));
    expect(await dynamic.json()).toMatchObject({ error: "unauthorized_client" });
  });

  it("a service client asking for refresh_token or authorization_code is unauthorized_client", async () => {
    const client = await serviceClient(await operatorSession());
    const requests: Array<Record<string, string>> = [{ grant_type: "refresh_token", refresh_token: "x.y" }, { grant_type: "authorization_code", code: "x.y", redirect_uri: "https://a/b", code_verifier: "v".repeat(43) }];
    for (const fields of requests) {
      const res = await postBasic("/token", client.client_id, client.client_secret!, fields);
      expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
    }
  });
});

describe("revocation takes effect at the very next MCP request", () => {
  it("RFC 7009: the client revoking its access token ends that session", async () => {
    const client = await serviceClient(await operatorSession());
    const { access_token } = await serviceToken(client);
    expect((await postBasic("/revoke", client.client_id, client.client_secret!, { token: access_token })).status).toBe(200);
    expect((await mcpPost(access_token, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })).status).toBe(401);
  });

  it("closing the service account ends its live tokens and refuses new ones", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const { access_token } = await serviceToken(client);
    await accountStub(client.service_account_id!).close({ reason: "retired", actor: { kind: "user", id: operator.accountId } }, meta());
    expect((await mcpPost(access_token, { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} })).status).toBe(401);
    const again = await clientCredentials(client);
    expect(again.status).toBe(400);
    expect(await again.json()).toMatchObject({ error: "unauthorized_client" });
  });
});

describe("a service account is a separate account with its own log", () => {
  it("records ServiceAccountRegistered and its roles with the operator as actor, and no secret anywhere", async () => {
    const operator = await operatorSession();
    const client = await serviceClient(operator);
    const events = await allEvents(accountStub(client.service_account_id!));
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ["ServiceAccountRegistered", { _tag: "ServiceAccountRegistered", accountId: client.service_account_id, name: "compliance exporter", clientId: client.client_id, scopes: ["account:read", "audit:read"] }],
      ["RoleGranted", expect.objectContaining({ role: "member" })],
      ["RoleGranted", expect.objectContaining({ role: "auditor", reason: "service account compliance exporter" })],
    ]);
    for (const e of events) expect(e.metadata.actor).toEqual({ kind: "user", id: operator.accountId });
    expect(JSON.stringify(events)).not.toContain(client.client_secret!);
  });

  it("it can never sign in: it has no email and a sign-in is refused", async () => {
    const client = await serviceClient(await operatorSession());
    const stub = accountStub(client.service_account_id!);
    expect(await stub.view()).toBeNull();
    expect(await stub.passwordHash()).toBeNull();
    expect(await stub.recordLogin(true, null, meta())).toMatchObject({ ok: false, error: "AccountNotFound" });
  });
});
