// The authorization endpoint (OAuth 2.1 §4.1.1). Validates the request, then shows the
// sign-in page carrying the validated request as a signed ticket.
//
// Order matters (RFC 6749 §4.1.2.1): until client_id and redirect_uri are known good, errors
// are shown to the user and never redirected, so this endpoint cannot be used as an open
// redirector. After that, errors go back to the client with `state` and `iss` (RFC 9207).

import { isLocalOnly, isValidCodeChallenge, parseScopes, redirectUriMatches } from "../../domain/oauth.ts";
import type { Env } from "../env.ts";
import { html, issuerOf, redirect, resourceOf } from "../http/responses.ts";
import { signTicket, verifyTicket } from "../keys.ts";
import { messagePage, signInPage } from "../pages/templates.ts";
import { findClient } from "./register.ts";

export interface AuthRequest {
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUri: string;
  readonly state: string | null;
  readonly codeChallenge: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  readonly localOnly: boolean;
}

/** Redirect back to the client with an error (RFC 6749 §4.1.2.1) and `iss` (RFC 9207 §2). */
export const errorRedirect = (issuer: string, redirectUri: string, state: string | null, error: string, description: string) => {
  const url = new URL(redirectUri);
  url.searchParams.set("error", error);
  url.searchParams.set("error_description", description);
  if (state !== null) url.searchParams.set("state", state);
  url.searchParams.set("iss", issuer);
  return redirect(url.toString());
};

const badRequestPage = (message: string) => html(messagePage("This sign-in link is not valid", message), 400);

export async function authorize(request: Request, env: Env): Promise<Response> {
  const params = new URL(request.url).searchParams;
  for (const name of ["client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "scope", "resource"]) {
    if (params.getAll(name).length > 1) return badRequestPage(`The parameter ${name} appears more than once.`);
  }
  const clientId = params.get("client_id") ?? "";
  const client = await findClient(env, clientId);
  if (!client) return badRequestPage("The application that sent you here is not registered.");
  const presented = params.get("redirect_uri");
  const redirectUri =
    presented === null ? (client.redirect_uris.length === 1 ? client.redirect_uris[0]! : null)
    : client.redirect_uris.some((r) => redirectUriMatches(r, presented)) ? presented : null;
  if (redirectUri === null) return badRequestPage("The application asked to send you to an address it did not register.");

  const issuer = issuerOf(request);
  const state = params.get("state");
  const fail = (error: string, description: string) => errorRedirect(issuer, redirectUri, state, error, description);
  if (params.get("response_type") !== "code") return fail("unsupported_response_type", "response_type must be code");
  const challenge = params.get("code_challenge");
  if (challenge === null) return fail("invalid_request", "code_challenge is required (PKCE, OAuth 2.1 §4.1.1)");
  if (params.get("code_challenge_method") !== "S256") return fail("invalid_request", "code_challenge_method must be S256");
  if (!isValidCodeChallenge(challenge)) return fail("invalid_request", "code_challenge is not a valid S256 challenge");
  const scopes = parseScopes(params.get("scope") ?? undefined);
  if ("invalid" in scopes) return fail("invalid_scope", `unknown scope ${scopes.invalid}`);
  const resource = params.get("resource") ?? resourceOf(request);
  // RFC 8707 §2: the only protected resource here is /mcp; the token's audience is bound to it.
  if (resource !== resourceOf(request)) return fail("invalid_target", `unknown resource ${resource}`);

  const authRequest: AuthRequest = {
    clientId,
    clientName: client.client_name,
    redirectUri,
    state,
    codeChallenge: challenge,
    scopes: scopes.scopes,
    resource,
    localOnly: isLocalOnly(client.redirect_uris),
  };
  const ticket = await signTicket(env, "authorize", { request: authRequest });
  return html(signInPage({ request: ticket, clientName: client.client_name, email: "", error: null }));
}

export async function readAuthRequest(env: Env, ticket: string | undefined | null): Promise<AuthRequest | null> {
  if (!ticket) return null;
  const payload = await verifyTicket(env, "authorize", ticket);
  return (payload?.request as AuthRequest | undefined) ?? null;
}
