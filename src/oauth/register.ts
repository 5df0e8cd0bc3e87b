// Dynamic Client Registration (RFC 7591) for public and confidential clients. The response echoes the
// complete metadata as registered, with defaults filled in (RFC 7591 §3.2.1).

import { redirectUriProblem, SUPPORTED_SCOPES, parseScopes } from "../../domain/oauth.ts";
import { BadRequest, readJsonObject } from "../http/body.ts";
import { json, oauthError } from "../http/responses.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import type { Env } from "../env.ts";
import { isMetadataUrl, resolveMetadataDocument, type Resolution } from "./cimd.ts";
import { TOKEN_ENDPOINT_AUTH_METHODS, type ClientMetadata, type TokenEndpointAuthMethod } from "../objects/client-registry-object.ts";

const CORS = { "Access-Control-Allow-Origin": "*" };
const GRANT_TYPES = ["authorization_code", "refresh_token"];

const invalid = (description: string, error = "invalid_client_metadata") =>
  oauthError(error, description, 400, CORS);

const optionalString = (body: Record<string, unknown>, key: string, max = 512): string | undefined | Error => {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length > max) return new Error(`${key} must be a string of at most ${max} characters`);
  // Control and bidi-format characters could disguise a name on the consent page.
  if (/[\p{Cc}\p{Cf}]/u.test(value)) return new Error(`${key} must not contain control or formatting characters`);
  return value;
};

export async function registerClient(request: Request, env: Env): Promise<Response> {
  let body: Record<string, unknown>;
  try {
    body = await readJsonObject(request);
  } catch (e) {
    if (e instanceof BadRequest) return oauthError("invalid_client_metadata", e.reason, e.status, CORS);
    throw e;
  }
  // Grant types first: a machine client learns where it belongs before anything about redirects.
  const grantTypes = body.grant_types ?? ["authorization_code", "refresh_token"];
  // RFC 6749 §4.4: a client_credentials client acts as a service account with roles; only an
  // operator creates one (MCP tool register_client), never an anonymous registration.
  if (Array.isArray(grantTypes) && grantTypes.includes("client_credentials")) {
    return invalid("client_credentials clients are registered by an admin with the MCP tool register_client, not through dynamic registration");
  }
  if (!Array.isArray(grantTypes) || !grantTypes.every((g) => GRANT_TYPES.includes(g as string)) || !grantTypes.includes("authorization_code")) {
    return invalid(`grant_types must be ["authorization_code"] or ["authorization_code", "refresh_token"]`);
  }
  const uris = body.redirect_uris;
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > 10 || !uris.every((u) => typeof u === "string")) {
    return invalid("redirect_uris must be a non-empty array of at most 10 strings", "invalid_redirect_uri");
  }
  for (const uri of uris as string[]) {
    const problem = redirectUriProblem(uri);
    if (problem) return invalid(problem, "invalid_redirect_uri");
  }
  const method = body.token_endpoint_auth_method ?? "none";
  if (!(TOKEN_ENDPOINT_AUTH_METHODS as ReadonlyArray<unknown>).includes(method)) {
    return invalid(`token_endpoint_auth_method must be one of ${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")}`);
  }
  const responseTypes = body.response_types ?? ["code"];
  if (!Array.isArray(responseTypes) || responseTypes.length !== 1 || responseTypes[0] !== "code") {
    return invalid("response_types must be [\"code\"]");
  }
  const scopeField = optionalString(body, "scope");
  if (scopeField instanceof Error) return invalid(scopeField.message);
  const scopes = parseScopes(scopeField);
  if ("invalid" in scopes) return invalid(`unknown scope ${scopes.invalid}`);
  const strings: Record<string, string> = {};
  for (const key of ["client_name", "client_uri", "logo_uri", "software_id", "software_version"]) {
    const value = optionalString(body, key, key === "client_name" ? 100 : 512);
    if (value instanceof Error) return invalid(value.message);
    if (value !== undefined) strings[key] = value;
  }
  const clientId = randomToken(18);
  const metadata: ClientMetadata = {
    ...strings,
    client_id: clientId,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    client_name: strings.client_name ?? "Unnamed MCP client",
    redirect_uris: uris as string[],
    grant_types: grantTypes as string[],
    response_types: ["code"],
    token_endpoint_auth_method: method as TokenEndpointAuthMethod,
    scope: (scopeField === undefined ? [...SUPPORTED_SCOPES] : scopes.scopes).join(" "),
  };
  // RFC 7591 §3.2.1: a confidential client gets its secret once, in this response only.
  const secret = metadata.token_endpoint_auth_method === "none" ? null : randomToken(32);
  await env.CLIENTS.get(env.CLIENTS.idFromName(clientId)).register(metadata, secret === null ? null : sha256Hex(secret));
  return json(secret === null ? metadata : { ...metadata, client_secret: secret, client_secret_expires_at: 0 }, 201, CORS);
}

export async function findClient(env: Env, clientId: string): Promise<ClientMetadata | null> {
  const found = await lookupClient(env, clientId);
  return found.ok ? found.client : null;
}

/**
 * Like findClient, but says why a Client ID Metadata Document URL cannot be used (a registered
 * id is simply unknown), so /authorize can name the problem on its 400 page.
 */
export async function lookupClient(env: Env, clientId: string): Promise<Resolution> {
  if (isMetadataUrl(clientId)) {
    const resolved = await resolveMetadataDocument(env, clientId);
    return resolved.ok ? resolved : { ok: false, problem: `The application's client metadata document ${clientId} cannot be used: ${resolved.problem}.` };
  }
  const client = await findRegisteredClient(env, clientId);
  return client ? { ok: true, client } : { ok: false, problem: "The application that sent you here is not registered." };
}

async function findRegisteredClient(env: Env, clientId: string): Promise<ClientMetadata | null> {
  if (clientId.length === 0 || clientId.length > 64 || !/^[A-Za-z0-9_-]+$/.test(clientId)) return null;
  return env.CLIENTS.get(env.CLIENTS.idFromName(clientId)).get();
}
