// Plain-fetch OAuth 2.1 helpers for the black-box checks that the SDK clients
// would hide from us (exact status codes, headers, error bodies).

import { createHash, randomBytes } from "node:crypto";
import type { FetchLike } from "./browser.ts";

/** Parses the auth-params of a `WWW-Authenticate: Bearer k="v", k2=v2` header. */
export function parseBearerChallenge(header: string | null): Record<string, string> | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (!/^bearer(\s|$)/i.test(trimmed)) return undefined;
  const params: Record<string, string> = {};
  let rest = trimmed.slice(6);
  const param = /^\s*,?\s*([A-Za-z0-9_\-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/;
  for (let m = param.exec(rest); m !== null; m = param.exec(rest)) {
    params[m[1]!.toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "");
    rest = rest.slice(m[0].length);
  }
  return params;
}

export interface Discovery {
  readonly resourceMetadataUrl: string;
  readonly resource: Record<string, unknown> & { resource: string; authorization_servers: string[] };
  readonly server: Record<string, unknown> & {
    issuer: string;
    authorization_endpoint: string;
    token_endpoint: string;
    registration_endpoint: string;
  };
}

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** RFC 8414 §3.1: the well-known suffix is inserted between host and path. */
export const authorizationServerMetadataUrl = (issuer: string) => {
  const url = new URL(issuer);
  const path = url.pathname === "/" ? "" : url.pathname;
  return new URL(`/.well-known/oauth-authorization-server${path}`, url.origin).href;
};

/** From the /mcp URL alone: 401 challenge → RFC 9728 metadata → RFC 8414 metadata. */
export async function discover(mcpUrl: string, fetchFn: FetchLike = fetch): Promise<Discovery> {
  const challenge = await fetchFn(mcpUrl, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
  });
  await challenge.body?.cancel();
  const params = parseBearerChallenge(challenge.headers.get("www-authenticate"));
  const resourceMetadataUrl = params?.resource_metadata;
  if (challenge.status !== 401 || resourceMetadataUrl === undefined) {
    throw new Error(`expected 401 with a resource_metadata challenge from ${mcpUrl}, got ${challenge.status}`);
  }
  const resource = (await json(await fetchFn(resourceMetadataUrl), "protected resource metadata")) as Discovery["resource"];
  const issuer = resource.authorization_servers?.[0];
  if (issuer === undefined) throw new Error("protected resource metadata lists no authorization_servers");
  const server = (await json(await fetchFn(authorizationServerMetadataUrl(issuer)), "authorization server metadata")) as Discovery["server"];
  return { resourceMetadataUrl, resource, server };
}

export async function registerPublicClient(d: Discovery, redirectUri: string, fetchFn: FetchLike = fetch): Promise<string> {
  const res = await fetchFn(d.server.registration_endpoint, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      client_name: "warden e2e raw client",
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    }),
  });
  const body = await json(res, "dynamic client registration");
  if (typeof body.client_id !== "string") throw new Error("registration response has no client_id");
  return body.client_id;
}

export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

export function authorizationUrl(
  d: Discovery,
  p: { clientId: string; redirectUri: string; pkce: Pkce; state: string; scope?: string },
): URL {
  const url = new URL(d.server.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: p.clientId,
    redirect_uri: p.redirectUri,
    code_challenge: p.pkce.challenge,
    code_challenge_method: "S256",
    state: p.state,
    scope: p.scope ?? "account:read",
    resource: d.resource.resource,
  }).toString();
  return url;
}

export function tokenRequest(d: Discovery, params: Record<string, string>, fetchFn: FetchLike = fetch): Promise<Response> {
  return fetchFn(d.server.token_endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(params).toString(),
  });
}
