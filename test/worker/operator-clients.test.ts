// Pre-registered clients created by an operator (MCP tools register_client, disable_client),
// and what Dynamic Client Registration may not do (RFC 7591 §2: the server decides which grant
// types a registration may have).

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, allEvents, auditRowsOf, call, codeRequest, drainOutbox, jsonBody, meta, registeredAccount, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import {
  callTool, clientCredentials, errorText, mcpPost, operatorSession, postBasic, registerViaTool, serviceClient, serviceToken,
} from "./machine-clients.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const REDIRECT = "https://app.example/callback";
const registry = (clientId: string) => env.CLIENTS.get(env.CLIENTS.idFromName(clientId));
const toolCalls = async (accountId: string) =>
  (await allEvents(accountStub(accountId))).filter((e) => e.type === "ToolInvoked").map((e) => e.data as { tool: string; outcome: string; reason: string | null });
/** The client-administration events of an operator's own log, with their actor. */
const clientAdmin = async (accountId: string) =>
  (await allEvents(accountStub(accountId))).filter((e) => e.type === "ClientRegistered" || e.type === "ClientDisabled");

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

describe("managing clients is a person's act: a service account never holds clients.manage", () => {
  it("an owner may not mint an owner-level service account nor give a service client clients:manage; nothing is registered or recorded", async () => {
    const owner = await operatorSession();
    const ownerLevel = errorText(await callTool(owner.accessToken, "register_client", {
      client_name: "Root machine", grant_types: ["client_credentials"], service_account: { name: "root", roles: ["owner"] },
    }));
    expect(ownerLevel).toContain("a service account may not hold role owner");
    const manager = errorText(await callTool(owner.accessToken, "register_client", {
      client_name: "Manager machine", grant_types: ["client_credentials"], scope: "account:read clients:manage", service_account: { name: "m", roles: ["admin"] },
    }));
    expect(manager).toContain("a service account may not hold scope clients:manage");
    expect(await clientAdmin(owner.accountId)).toEqual([]);
  });

  it("an admin service token calling register_client or disable_client gets a tool error, recorded as denied in its own log; no child client can exist", async () => {
    const owner = await operatorSession();
    const parent = await serviceClient(owner, ["admin"]);
    const sibling = await registerViaTool(owner, { client_name: "Sibling", redirect_uris: [REDIRECT] });
    const { access_token } = await serviceToken(parent);
    const child = await callTool(access_token, "register_client", {
      client_name: "Child", grant_types: ["client_credentials"], scope: "account:read", service_account: { name: "child", roles: ["admin"] },
    });
    expect(errorText(child)).toContain("clients.manage is a person's act");
    expect(child.structuredContent).toBeUndefined();
    expect(errorText(await callTool(access_token, "disable_client", { client_id: sibling.client_id }))).toContain("clients.manage is a person's act");
    expect(await registry(sibling.client_id).get()).not.toBeNull();
    expect(await toolCalls(parent.service_account_id!)).toEqual([
      expect.objectContaining({ tool: "register_client", outcome: "denied", reason: "clients.manage is a person's act; a service account never holds it" }),
      expect.objectContaining({ tool: "disable_client", outcome: "denied" }),
    ]);
    // whoami shows the service account's effective permissions: no person-only one.
    const me = (await callTool(access_token, "whoami")).structuredContent as { roles: string[]; permissions: string[] };
    expect(me.roles).toContain("admin");
    expect(me.permissions).not.toContain("clients.manage");
    expect(me.permissions).not.toContain("roles.grant");
  });
});

describe("audit: the operator's own log names every client registered or disabled", () => {
  it("register_client records ClientRegistered (operator as actor) for a code client, a service client and a resource server, with no secret", async () => {
    const operator = await operatorSession();
    const code = await registerViaTool(operator, { client_name: "Portal", redirect_uris: [REDIRECT], scope: "account:read" });
    const service = await serviceClient(operator);
    const rs = await registerViaTool(operator, { client_name: "Reports API", grant_types: [] });
    const events = await clientAdmin(operator.accountId);
    expect(events.map((e) => e.data)).toEqual([
      { _tag: "ClientRegistered", clientId: code.client_id, kind: "operator", clientName: "Portal", grantTypes: ["authorization_code", "refresh_token"], scopes: ["account:read"], serviceAccountId: null },
      { _tag: "ClientRegistered", clientId: service.client_id, kind: "service", clientName: "Compliance exporter", grantTypes: ["client_credentials"], scopes: ["account:read", "audit:read"], serviceAccountId: service.service_account_id },
      { _tag: "ClientRegistered", clientId: rs.client_id, kind: "resource_server", clientName: "Reports API", grantTypes: [], scopes: [], serviceAccountId: null },
    ]);
    for (const e of events) expect(e.metadata.actor).toEqual({ kind: "user", id: operator.accountId });
    const log = JSON.stringify(await allEvents(operator.stub));
    for (const secret of [code.client_secret, service.client_secret, rs.client_secret]) expect(log).not.toContain(secret!);
  });

  it("a refused registration records no ClientRegistered", async () => {
    const operator = await operatorSession();
    errorText(await callTool(operator.accessToken, "register_client", { client_name: "Bad", redirect_uris: ["http://app.example/cb"] }));
    expect(await clientAdmin(operator.accountId)).toEqual([]);
  });

  it("disable_client records ClientDisabled once, naming the closed service account; disabling again records nothing more", async () => {
    const operator = await operatorSession();
    const service = await serviceClient(operator);
    await callTool(operator.accessToken, "disable_client", { client_id: service.client_id });
    await callTool(operator.accessToken, "disable_client", { client_id: service.client_id });
    const disabled = (await clientAdmin(operator.accountId)).filter((e) => e.type === "ClientDisabled");
    expect(disabled.map((e) => e.data)).toEqual([{ _tag: "ClientDisabled", clientId: service.client_id, kind: "service", serviceAccountId: service.service_account_id }]);
    expect(disabled[0]!.metadata.actor).toEqual({ kind: "user", id: operator.accountId });
  });

  it("both reach the audit index (outbox drained) and query_audit, with no client secret in any row", async () => {
    const operator = await operatorSession();
    const service = await serviceClient(operator);
    const rs = await registerViaTool(operator, { client_name: "Reports API", grant_types: [] });
    await callTool(operator.accessToken, "disable_client", { client_id: rs.client_id });
    await drainOutbox(operator.stub);
    const rows = (await auditRowsOf(operator.accountId)).filter((r) => r.type === "ClientRegistered" || r.type === "ClientDisabled");
    expect(rows.map((r) => [r.type, (r.data as { clientId: string }).clientId, r.actorId]).reverse()).toEqual([
      ["ClientRegistered", service.client_id, operator.accountId],
      ["ClientRegistered", rs.client_id, operator.accountId],
      ["ClientDisabled", rs.client_id, operator.accountId],
    ]);
    const queried = await callTool(operator.accessToken, "query_audit", { account_id: operator.accountId, type: "ClientRegistered" });
    const found = (queried.structuredContent as { events: Array<{ data: { clientId: string } }> }).events.map((e) => e.data.clientId);
    expect(found.sort()).toEqual([service.client_id, rs.client_id].sort());
    const everything = JSON.stringify(await auditRowsOf(operator.accountId)) + JSON.stringify(queried);
    for (const secret of [service.client_secret, rs.client_secret]) expect(everything).not.toContain(secret!);
  });
});

describe("list_accounts shows service accounts to operators (directory read model v4)", () => {
  it("kind services lists a new service account with its name and client; the people listing never does", async () => {
    const operator = await operatorSession("owner", ["account:read", "accounts:read", "clients:manage"]);
    const client = await serviceClient(operator);
    const serviceAccountId = client.service_account_id!;
    await drainOutbox(accountStub(serviceAccountId));
    const listed = async (kind?: string) => {
      const rows: Array<{ accountId: string; email: string | null; service: { name: string; clientId: string } | null }> = [];
      let cursor: string | undefined;
      do {
        const result = await callTool(operator.accessToken, "list_accounts", { ...(kind ? { kind } : {}), limit: 100, ...(cursor ? { cursor } : {}) });
        const page = result.structuredContent as { accounts: typeof rows; next: string | null };
        rows.push(...page.accounts);
        cursor = page.next ?? undefined;
      } while (cursor);
      return rows;
    };
    const services = await listed("services");
    const row = services.find((r) => r.accountId === serviceAccountId);
    expect(row).toMatchObject({ email: null, service: { clientId: client.client_id } });
    expect(row!.service!.name.length).toBeGreaterThan(0);
    expect(services.every((r) => r.service !== null && r.email === null)).toBe(true);
    expect((await listed()).some((r) => r.accountId === serviceAccountId)).toBe(false);
  });
});
