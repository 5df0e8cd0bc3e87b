// The token endpoint (OAuth 2.1 §3.2): authorization_code and refresh_token grants, and
// client_credentials for service clients (RFC 6749 §4.4). The workflow is an Effect with typed refusals; `toOAuthError` is the one
// exhaustive mapping from refusal to RFC 6749 §5.2 error response.

import { Effect, Schema } from "effect";
import { isValidCodeVerifier, parseScopes } from "../../domain/oauth.ts";
import { sha256Base64Url } from "../crypto.ts";
import type { Env } from "../env.ts";
import { BadRequest, readForm, single } from "../http/body.ts";
import { issuerOf, json, oauthError, requestMeta, resourceOf } from "../http/responses.ts";
import { ACCESS_TOKEN_TTL_S, assuranceClaims, signAccessToken } from "../keys.ts";
import type { ServiceSessionOutcome } from "../objects/account-object.ts";
import type { IssuedSession, TokenOutcome, TokenRefusal } from "../objects/account-tokens.ts";
import { clientKind, type ClientMetadata } from "../objects/client-registry-object.ts";
import { accountStub, call } from "../services/accounts.ts";
import { authenticateClient } from "./client-auth.ts";

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", { description: Schema.String }) {}
export class InvalidClient extends Schema.TaggedError<InvalidClient>()("InvalidClient", { description: Schema.String, basic: Schema.Boolean }) {}
export class InvalidGrant extends Schema.TaggedError<InvalidGrant>()("InvalidGrant", { description: Schema.String }) {}
export class InvalidScope extends Schema.TaggedError<InvalidScope>()("InvalidScope", { description: Schema.String }) {}
export class InvalidTarget extends Schema.TaggedError<InvalidTarget>()("InvalidTarget", { description: Schema.String }) {}
export class UnauthorizedClient extends Schema.TaggedError<UnauthorizedClient>()("UnauthorizedClient", { description: Schema.String }) {}
export class UnsupportedGrantType extends Schema.TaggedError<UnsupportedGrantType>()("UnsupportedGrantType", { description: Schema.String }) {}

export type TokenError = InvalidRequest | InvalidClient | InvalidGrant | InvalidScope | InvalidTarget | UnauthorizedClient | UnsupportedGrantType;

const CORS = { "Access-Control-Allow-Origin": "*" };

export const toOAuthError = (error: TokenError): Response => {
  switch (error._tag) {
    case "InvalidRequest": return oauthError("invalid_request", error.description, 400, CORS);
    case "InvalidClient":
      return oauthError("invalid_client", error.description, 401, { ...CORS, ...(error.basic ? { "WWW-Authenticate": 'Basic realm="warden", charset="UTF-8"' } : {}) });
    case "InvalidGrant": return oauthError("invalid_grant", error.description, 400, CORS);
    case "InvalidScope": return oauthError("invalid_scope", error.description, 400, CORS);
    case "InvalidTarget": return oauthError("invalid_target", error.description, 400, CORS);
    case "UnauthorizedClient": return oauthError("unauthorized_client", error.description, 400, CORS);
    case "UnsupportedGrantType": return oauthError("unsupported_grant_type", error.description, 400, CORS);
  }
};

/** Every refusal of the account object is `invalid_grant`; the description says which. */
const REFUSALS: Record<TokenRefusal, string> = {
  ticket_used: "consent ticket already used",
  account_not_found: "no such account",
  code_unknown: "authorization code is not valid",
  code_expired: "authorization code has expired",
  code_reused: "authorization code was already used; tokens issued with it are revoked",
  client_mismatch: "grant was issued to another client",
  redirect_mismatch: "redirect_uri does not match the authorization request",
  pkce_mismatch: "code_verifier does not match the code_challenge",
  refresh_unknown: "refresh token is not valid",
  refresh_reused: "refresh token was already used; the session is revoked",
  session_not_live: "session is no longer active",
  scope_widened: "a refresh may not add scopes",
  reauthentication_required: "the sign-in behind this code no longer stands (password changed, two-step verification turned on, or account locked); sign in again",
};

const required = (form: URLSearchParams, name: string) =>
  Effect.suspend(() => {
    const value = single(form, name);
    return value ? Effect.succeed(value) : Effect.fail(new InvalidRequest({ description: `${name} is required` }));
  });

/** Tokens and codes are `<accountId>.<secret>`: the prefix routes to the account object. */
const accountIdOf = (token: string) => {
  const dot = token.indexOf(".");
  const id = token.slice(0, dot);
  return dot > 0 && /^[0-9a-f-]{36}$/.test(id) ? Effect.succeed(id) : Effect.fail(new InvalidGrant({ description: "grant is not valid" }));
};

const outcome = (result: TokenOutcome<IssuedSession>) =>
  result.ok ? Effect.succeed(result.value) : Effect.fail(new InvalidGrant({ description: REFUSALS[result.reason] }));

/**
 * RFC 6749 §4.4: a confidential service client gets a token for its own service account, within
 * the scopes it was registered with. The token is a short session of that account (as long as the
 * access token), so /mcp liveness, revocation and closing apply unchanged; no refresh token (§4.4.3).
 */
const clientCredentials = Effect.fn("client_credentials")(function* (request: Request, env: Env, form: URLSearchParams, client: ClientMetadata) {
  const serviceAccountId = client.service_account_id;
  if (client.token_endpoint_auth_method === "none" || clientKind(client) !== "service" || serviceAccountId === undefined) {
    return yield* new UnauthorizedClient({ description: "client_credentials is for confidential service clients" });
  }
  const registered = client.scope.split(" ").filter((s) => s.length > 0);
  const scopeParam = single(form, "scope");
  const parsed = scopeParam === undefined || scopeParam.trim() === "" ? { scopes: registered } : parseScopes(scopeParam);
  if ("invalid" in parsed) return yield* new InvalidScope({ description: `unknown scope ${parsed.invalid}` });
  const outside = parsed.scopes.find((s) => !registered.includes(s));
  if (outside !== undefined) return yield* new InvalidScope({ description: `scope ${outside} is not registered for this client` });
  const meta = requestMeta(request);
  const input = { clientId: client.client_id, scopes: parsed.scopes, resource: resourceOf(request), expiresAt: meta.at + ACCESS_TOKEN_TTL_S * 1000 };
  const started = yield* call<ServiceSessionOutcome>(() => accountStub(env, serviceAccountId).startServiceSession(input, meta));
  if (!started.ok) return yield* new UnauthorizedClient({ description: `the service account cannot act: ${started.reason}` });
  const scope = parsed.scopes.join(" ");
  const accessToken = yield* Effect.promise(() =>
    signAccessToken(env, issuerOf(request), input.resource, { sub: started.accountId, sid: started.sessionId, client_id: client.client_id, scope }),
  );
  return { access_token: accessToken, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_S, scope };
});

const tokenWorkflow = Effect.fn("token")(function* (request: Request, env: Env, form: URLSearchParams) {
  const meta = requestMeta(request);
  const grantType = yield* required(form, "grant_type");
  const auth = yield* Effect.promise(() => authenticateClient(request, form, env));
  if (!auth.ok && auth.error === "invalid_request") return yield* new InvalidRequest({ description: auth.description });
  if (!auth.ok) return yield* new InvalidClient({ description: auth.description, basic: auth.basic });
  const client = auth.client;
  const clientId = client.client_id;
  // RFC 6749 §5.2: a grant type the client did not register for is unauthorized_client.
  if (!client.grant_types.includes(grantType) && ["authorization_code", "refresh_token", "client_credentials"].includes(grantType)) {
    return yield* new UnauthorizedClient({ description: `client is not registered for ${grantType}` });
  }
  const resource = single(form, "resource");
  if (resource !== undefined && resource !== resourceOf(request)) {
    return yield* new InvalidTarget({ description: `unknown resource ${resource}` });
  }

  if (grantType === "client_credentials") return yield* clientCredentials(request, env, form, client);
  let issued: IssuedSession;
  if (grantType === "authorization_code") {
    const code = yield* required(form, "code");
    const redirectUri = yield* required(form, "redirect_uri");
    const verifier = yield* required(form, "code_verifier");
    if (!isValidCodeVerifier(verifier)) return yield* new InvalidGrant({ description: "code_verifier is malformed (RFC 7636 §4.1)" });
    const accountId = yield* accountIdOf(code);
    const grant = { code, clientId, redirectUri, challengeOfVerifier: sha256Base64Url(verifier) };
    issued = yield* outcome(yield* call<TokenOutcome<IssuedSession>>(() => accountStub(env, accountId).redeemCode(grant, meta)));
  } else if (grantType === "refresh_token") {
    const refreshToken = yield* required(form, "refresh_token");
    const scopeParam = single(form, "scope");
    const scopes = scopeParam === undefined ? null : parseScopes(scopeParam);
    if (scopes && "invalid" in scopes) return yield* new InvalidScope({ description: `unknown scope ${scopes.invalid}` });
    const accountId = yield* accountIdOf(refreshToken);
    const input = { refreshToken, clientId, scopes: scopes?.scopes ?? null };
    issued = yield* outcome(yield* call<TokenOutcome<IssuedSession>>(() => accountStub(env, accountId).refresh(input, meta)));
  } else {
    return yield* new UnsupportedGrantType({ description: `grant_type ${grantType} is not supported` });
  }

  const scope = issued.scopes.join(" ");
  const accessToken = yield* Effect.promise(() =>
    signAccessToken(env, issuerOf(request), issued.resource, { sub: issued.accountId, sid: issued.sessionId, client_id: issued.clientId, scope, ...assuranceClaims(issued.amr) }),
  );
  return { access_token: accessToken, token_type: "Bearer", expires_in: ACCESS_TOKEN_TTL_S, refresh_token: issued.refreshToken, scope };
});

export async function token(request: Request, env: Env): Promise<Response> {
  let form: URLSearchParams;
  try {
    form = await readForm(request);
  } catch (e) {
    if (e instanceof BadRequest) return oauthError("invalid_request", e.reason, e.status === 413 ? 413 : 400, CORS);
    throw e;
  }
  const result = await Effect.runPromise(
    Effect.result(
      tokenWorkflow(request, env, form).pipe(
        // A repeated parameter is a malformed request (RFC 6749 §3.2), not a server fault.
        Effect.catchDefect((defect) =>
          defect instanceof BadRequest ? Effect.fail(new InvalidRequest({ description: defect.reason })) : Effect.die(defect),
        ),
      ),
    ),
  );
  return result._tag === "Success" ? json(result.success, 200, CORS) : toOAuthError(result.failure);
}
