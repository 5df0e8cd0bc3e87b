// Fixtures for the machine-client tests (operator-clients, service-accounts, resource-server
// introspection): a real operator session obtained through /token, MCP tool calls over /mcp,
// and client_credentials requests, all through the Worker as a client on the internet would.

import { expect } from "vitest";
import type { Role } from "../../domain/roles.ts";
import { call, codeRequest, form, meta, registerClient, registeredAccount, type AccountStub } from "./helpers.ts";

export const basic = (id: string, secret: string) => `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;

/** POST a form with client_secret_basic credentials. */
export const postBasic = (path: string, id: string, secret: string, fields: Record<string, string>) =>
  call(path, { ...form(fields), headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(id, secret) } });

export interface Operator {
  readonly accountId: string;
  readonly stub: AccountStub;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly clientId: string;
}

/**
 * A person with `role` (owner through ADMIN_EMAILS, others granted) signed in through a public
 * DCR client, code exchanged at /token: a real access token for /mcp.
 */
export async function operatorSession(role: Role | null = "owner", scopes = ["account:read", "audit:read", "clients:manage"]): Promise<Operator> {
  const clientId = await registerClient();
  const { accountId, stub } = await registeredAccount({ isAdmin: role === "owner" });
  if (role !== null && role !== "owner" && role !== "member") {
    await stub.grantRole({ role, reason: "test", expiresAt: null, actor: { kind: "system", id: "test" } }, meta());
  }
  const request = codeRequest({ clientId, scopes });
  const approved = await stub.approve(request, meta());
  if (!approved.ok) throw new Error(approved.reason);
  const res = await call("/token", form({
    grant_type: "authorization_code", code: approved.value.code, client_id: clientId, redirect_uri: request.redirectUri, code_verifier: request.verifier,
  }));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { access_token: string; refresh_token: string };
  return { accountId, stub, accessToken: body.access_token, refreshToken: body.refresh_token, clientId };
}

export interface ToolResult {
  readonly isError?: boolean;
  readonly content: Array<{ type: string; text?: string }>;
  readonly structuredContent?: Record<string, unknown>;
}

/** A JSON-RPC request to /mcp with a bearer token: the HTTP response itself. */
export const mcpPost = (token: string, body: unknown) =>
  call("/mcp", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify(body),
  });

/** Calls a tool; the JSON-RPC result (from JSON or from the SSE `data:` line). */
export async function callTool(token: string, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  const res = await mcpPost(token, { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`/mcp ${res.status}: ${text}`);
  const json = res.headers.get("content-type")?.includes("text/event-stream")
    ? JSON.parse(text.split("\n").find((l) => l.startsWith("data:"))!.slice(5))
    : JSON.parse(text);
  if (json.error) throw new Error(`JSON-RPC error: ${JSON.stringify(json.error)}`);
  return json.result as ToolResult;
}

export const errorText = (result: ToolResult) => {
  expect(result.isError, JSON.stringify(result)).toBe(true);
  return result.content.map((c) => c.text ?? "").join("\n");
};

export interface RegisteredClient extends Record<string, unknown> {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly kind: string;
  readonly service_account_id?: string;
}

/** register_client as `operator`; fails the test when the tool refuses. */
export async function registerViaTool(operator: Operator, input: Record<string, unknown>): Promise<RegisteredClient> {
  const result = await callTool(operator.accessToken, "register_client", input);
  expect(result.isError, JSON.stringify(result)).not.toBe(true);
  return result.structuredContent as RegisteredClient;
}

/** A service client (client_credentials) with a service account holding `roles`. */
export const serviceClient = (operator: Operator, roles: Role[] = ["auditor"], scope = "account:read audit:read") =>
  registerViaTool(operator, {
    client_name: "Compliance exporter", grant_types: ["client_credentials"], scope,
    service_account: { name: "compliance exporter", roles },
  });

/** RFC 6749 §4.4.2 token request with client_secret_basic. */
export const clientCredentials = (client: RegisteredClient, fields: Record<string, string> = {}) =>
  postBasic("/token", client.client_id, client.client_secret!, { grant_type: "client_credentials", ...fields });

export async function serviceToken(client: RegisteredClient, fields: Record<string, string> = {}) {
  const res = await clientCredentials(client, fields);
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { access_token: string; token_type: string; expires_in: number; scope: string; refresh_token?: string };
}

/** The claims of a JWT (unverified: the server verified it; tests only read it). */
export const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
