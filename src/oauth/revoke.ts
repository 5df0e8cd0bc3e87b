// Token revocation (RFC 7009). Public clients identify themselves with client_id (§2.1).
// Revoking a refresh token or an access token ends its session: the refresh family and every
// access token of it stop working at the next request (the MCP route asks the account).
// §2.2: an unknown or invalid token still gets 200, so the endpoint reveals nothing.

import type { Env } from "../env.ts";
import { readForm, single } from "../http/body.ts";
import { issuerOf, oauthError, requestMeta, resourceOf } from "../http/responses.ts";
import { verifyAccessToken } from "../keys.ts";
import { accountStub } from "../services/accounts.ts";
import { authenticateClient, clientAuthHeaders } from "./client-auth.ts";

const CORS = { "Access-Control-Allow-Origin": "*" };
const ok = () => new Response(null, { status: 200, headers: { ...CORS, "Cache-Control": "no-store" } });

/** `<accountId>.<secret>` refresh tokens name their account; JWTs are recognized by shape. */
const accountIdOf = (token: string) => {
  const id = token.slice(0, token.indexOf("."));
  return /^[0-9a-f-]{36}$/.test(id) ? id : null;
};

export async function revoke(request: Request, env: Env): Promise<Response> {
  const form = await readForm(request);
  const token = single(form, "token");
  const hint = single(form, "token_type_hint");
  if (!token) return oauthError("invalid_request", "token is required", 400, CORS);
  // §2.1: the client authenticates as it does at the token endpoint.
  const auth = await authenticateClient(request, form, env);
  if (!auth.ok) return oauthError(auth.error, auth.description, auth.error === "invalid_client" ? 401 : 400, { ...CORS, ...clientAuthHeaders(auth) });
  const clientId = auth.client.client_id;
  if (hint !== undefined && hint !== "access_token" && hint !== "refresh_token") {
    return oauthError("unsupported_token_type", `token_type_hint ${hint} is not supported`, 400, CORS);
  }
  const meta = requestMeta(request);
  const isJwt = token.split(".").length === 3;
  let outcome: "revoked" | "unknown" | "not_yours" = "unknown";
  if (isJwt) {
    // An expired access token may still be revoked: its session may outlive it.
    const claims = (await verifyAccessToken(env, token, issuerOf(request), resourceOf(request), { allowExpired: true })) ?? null;
    if (claims) outcome = await accountStub(env, claims.sub).revokeToken({ sessionId: claims.sid, clientId }, meta);
  } else {
    const accountId = accountIdOf(token);
    if (accountId) outcome = await accountStub(env, accountId).revokeToken({ refreshToken: token, clientId }, meta);
  }
  // §2.1: a token issued to another client is refused (and nothing changes).
  if (outcome === "not_yours") return oauthError("unauthorized_client", "the token was not issued to this client", 400, CORS);
  return ok();
}
