// Token introspection (RFC 7662) for confidential clients and resource servers: is this token
// active right now, and what does it stand for? "Active" is decided by the account object, so
// a revoked session's JWT is inactive at once even before it expires. An ordinary client sees
// only its own tokens; a resource server (a client of kind `resource_server`, registered by an
// operator) sees every access token whose audience is a resource it serves, whoever it was
// issued to (§2.1), and no refresh token. Anything else (unknown, expired, revoked, not the
// caller's) is {"active": false} (§2.2), which reveals nothing.

import type { Env } from "../env.ts";
import { readForm, single } from "../http/body.ts";
import { issuerOf, json, oauthError, resourceOf } from "../http/responses.ts";
import { verifyAccessToken } from "../keys.ts";
import { clientKind, type ClientMetadata } from "../objects/client-registry-object.ts";
import { accountStub } from "../services/accounts.ts";
import { authenticateClient, clientAuthHeaders } from "./client-auth.ts";

const inactive = () => json({ active: false });

/** May `caller` learn about an access token issued to `clientId` for `audience`? */
const mayIntrospect = (caller: ClientMetadata, clientId: string, audience: string | string[] | undefined): boolean => {
  if (clientKind(caller) !== "resource_server") return clientId === caller.client_id;
  const audiences = Array.isArray(audience) ? audience : audience === undefined ? [] : [audience];
  return audiences.some((a) => (caller.resources ?? []).includes(a));
};

export async function introspect(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const token = single(form, "token");
  if (!token) return oauthError("invalid_request", "token is required");
  const auth = await authenticateClient(request, form, env);
  if (!auth.ok) return oauthError(auth.error, auth.description, auth.error === "invalid_client" ? 401 : 400, clientAuthHeaders(auth));
  // §2.1: the endpoint is for authenticated callers; a public client cannot prove who it is.
  if (auth.client.token_endpoint_auth_method === "none") return oauthError("invalid_client", "introspection needs a confidential client", 401);
  const clientId = auth.client.client_id;
  const now = Date.now();

  if (token.split(".").length === 3) {
    const claims = await verifyAccessToken(env, token, issuerOf(request), resourceOf(request));
    if (!claims || !mayIntrospect(auth.client, claims.client_id, claims.aud)) return inactive();
    const session = await accountStub(env, claims.sub).introspect({ sessionId: claims.sid }, now);
    if (!session) return inactive();
    return json({
      active: true, token_type: "Bearer", scope: claims.scope, client_id: claims.client_id, sub: claims.sub, sid: claims.sid,
      iss: claims.iss, aud: claims.aud, exp: claims.exp, iat: claims.iat, jti: claims.jti,
    });
  }
  // Refresh tokens are for the client that holds them, never for a resource server.
  if (clientKind(auth.client) === "resource_server") return inactive();
  const accountId = token.slice(0, token.indexOf("."));
  if (!/^[0-9a-f-]{36}$/.test(accountId)) return inactive();
  const session = await accountStub(env, accountId).introspect({ refreshToken: token }, now);
  if (!session || session.clientId !== clientId) return inactive();
  return json({
    active: true, token_type: "refresh_token", scope: session.scopes.join(" "), client_id: clientId,
    sub: session.accountId, sid: session.sessionId, exp: Math.floor(session.expiresAt / 1000), iss: issuerOf(request),
  });
}
