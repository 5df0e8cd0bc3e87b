// Client authentication at the token, revocation and introspection endpoints
// (RFC 6749 §2.3.1, OAuth 2.1 §2.4): a public client names itself with client_id; a
// confidential client proves itself with its secret, by the one method it registered
// (HTTP Basic or a form parameter). Presenting more than one method is an invalid request.

import { sha256Hex } from "../crypto.ts";
import type { Env } from "../env.ts";
import { single } from "../http/body.ts";
import type { ClientMetadata } from "../objects/client-registry-object.ts";
import { findClient } from "./register.ts";

export type ClientAuthResult =
  | { readonly ok: true; readonly client: ClientMetadata }
  | { readonly ok: false; readonly error: "invalid_client" | "invalid_request"; readonly description: string; readonly basic: boolean };

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(request: Request): { id: string; secret: string } | null | "malformed" {
  const header = request.headers.get("authorization");
  if (!header) return null;
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return "malformed";
  let decoded: string;
  try {
    decoded = atob(match[1]!);
  } catch {
    return "malformed";
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return "malformed";
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, " ")), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, " ")) };
  } catch {
    return "malformed";
  }
}

export async function authenticateClient(request: Request, form: URLSearchParams, env: Env): Promise<ClientAuthResult> {
  const basic = basicCredentials(request);
  const fail = (error: "invalid_client" | "invalid_request", description: string): ClientAuthResult => ({
    ok: false, error, description, basic: basic !== null,
  });
  if (basic === "malformed") return fail("invalid_client", "malformed Basic credentials");
  const formId = single(form, "client_id");
  const formSecret = single(form, "client_secret");
  if (basic && formSecret !== undefined) return fail("invalid_request", "use one client authentication method, not two");
  if (basic && formId !== undefined && formId !== basic.id) return fail("invalid_request", "client_id does not match the Basic credentials");
  const clientId = basic?.id ?? formId;
  if (!clientId) return fail("invalid_client", "client authentication is required");
  const client = await findClient(env, clientId);
  if (!client) return fail("invalid_client", "unknown client");
  const presented = basic ? { method: "client_secret_basic", secret: basic.secret } : formSecret !== undefined ? { method: "client_secret_post", secret: formSecret } : { method: "none", secret: null };
  if (presented.method !== client.token_endpoint_auth_method) {
    return fail("invalid_client", `this client authenticates with ${client.token_endpoint_auth_method}`);
  }
  if (presented.secret !== null) {
    const matches = await env.CLIENTS.get(env.CLIENTS.idFromName(clientId)).secretMatches(sha256Hex(presented.secret));
    if (!matches) return fail("invalid_client", "client authentication failed");
  }
  return { ok: true, client };
}

/** RFC 6749 §5.2: 401, and a Basic challenge when the client tried Basic. */
export const clientAuthHeaders = (result: Extract<ClientAuthResult, { ok: false }>): Record<string, string> =>
  result.basic ? { "WWW-Authenticate": 'Basic realm="warden", charset="UTF-8"' } : {};
