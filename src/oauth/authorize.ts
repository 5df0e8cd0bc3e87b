// The authorization endpoint (OAuth 2.1 §4.1.1). Validates the request, then either continues
// as the person already signed in in this browser (src/pages/browser-session.ts: consent page,
// or straight back with a code when consent is remembered) or shows the sign-in page carrying
// the validated request as a signed ticket.
//
// Order matters (RFC 6749 §4.1.2.1): until client_id and redirect_uri are known good, errors
// are shown to the user and never redirected, so this endpoint cannot be used as an open
// redirector. After that, errors go back to the client with `state` and `iss` (RFC 9207).

import { isValidCodeChallenge, parseScopes, redirectUriMatches } from "../../domain/oauth.ts";
import type { Env } from "../env.ts";
import { errorRedirect, html, issuerOf, resourceOf } from "../http/responses.ts";
import { signTicket, verifyTicket } from "../keys.ts";
import { clearBrowserSession, readBrowserSession, sessionProblem } from "../pages/browser-session.ts";
import { continueToConsent } from "../pages/consent.ts";
import { messagePage, signInPage } from "../pages/templates.ts";
import { accountStub } from "../services/accounts.ts";
import { lookupClient } from "./register.ts";

export { errorRedirect };

export interface AuthRequest {
  readonly clientId: string;
  readonly clientName: string;
  readonly redirectUri: string;
  readonly state: string | null;
  readonly codeChallenge: string;
  readonly scopes: ReadonlyArray<string>;
  readonly resource: string;
  /** `prompt=consent`: show the consent page even when consent is remembered. */
  readonly forceConsent: boolean;
}

/**
 * OpenID Connect Core §3.1.2.1 `prompt` and `max_age`, which OAuth clients send too: `login`
 * (and `select_account`) ignore the browser session, `consent` forces the page, `none` never
 * shows a page (`login_required` / `consent_required` instead). Unknown values are ignored, as
 * Keycloak does; `none` with anything else is an error, as the spec says.
 */
function readPrompt(params: URLSearchParams): { prompt: ReadonlySet<string>; maxAge: number | null } | { invalid: string } {
  const prompt = new Set((params.get("prompt") ?? "").split(" ").filter((p) => p !== ""));
  if (prompt.has("none") && prompt.size > 1) return { invalid: "prompt=none cannot be combined with other values" };
  const raw = params.get("max_age");
  if (raw === null) return { prompt, maxAge: null };
  if (!/^\d{1,9}$/.test(raw)) return { invalid: "max_age must be a non-negative integer (seconds)" };
  return { prompt, maxAge: Number(raw) };
}

const badRequestPage = (message: string) => html(messagePage("This sign-in link is not valid", message), 400);

export async function authorize(request: Request, env: Env): Promise<Response> {
  const params = new URL(request.url).searchParams;
  for (const name of ["client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "scope", "resource", "prompt", "max_age"]) {
    if (params.getAll(name).length > 1) return badRequestPage(`The parameter ${name} appears more than once.`);
  }
  const clientId = params.get("client_id") ?? "";
  const found = await lookupClient(env, clientId);
  if (!found.ok) return badRequestPage(found.problem);
  const client = found.client;
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
  const prompt = readPrompt(params);
  if ("invalid" in prompt) return fail("invalid_request", prompt.invalid);

  const authRequest: AuthRequest = {
    clientId,
    clientName: client.client_name,
    redirectUri,
    state,
    codeChallenge: challenge,
    scopes: scopes.scopes,
    resource,
    forceConsent: prompt.prompt.has("consent"),
  };
  const resumed = await resumeBrowserSession(env, request, authRequest, prompt);
  if (resumed.response) return resumed.response;
  if (prompt.prompt.has("none")) return fail("login_required", "the user is not signed in");
  const ticket = await signTicket(env, "authorize", { request: authRequest });
  const page = html(signInPage({ request: ticket, clientName: client.client_name, email: "", error: null }));
  if (resumed.stale) page.headers.append("Set-Cookie", clearBrowserSession);
  return page;
}

/**
 * The person signed in in this browser before: continue as them unless `prompt`/`max_age` ask
 * for a fresh sign-in or the session no longer holds (then the stale cookie is cleared).
 */
async function resumeBrowserSession(
  env: Env,
  request: Request,
  authRequest: AuthRequest,
  options: { prompt: ReadonlySet<string>; maxAge: number | null },
): Promise<{ response?: Response; stale?: boolean }> {
  if (options.prompt.has("login") || options.prompt.has("select_account")) return {};
  const session = await readBrowserSession(env, request);
  if (!session) return {};
  const status = await accountStub(env, session.accountId).resumeStatus(authRequest.clientId);
  const problem = sessionProblem(session, status, Date.now(), options.maxAge);
  // max_age only asks for a fresh sign-in for this request; the session itself still holds.
  if (problem !== null || !status) return { stale: problem !== "max_age" };
  return { response: await continueToConsent(env, request, authRequest, session, status, { interactive: !options.prompt.has("none") }) };
}

export async function readAuthRequest(env: Env, ticket: string | undefined | null): Promise<AuthRequest | null> {
  if (!ticket) return null;
  const payload = await verifyTicket(env, "authorize", ticket);
  return (payload?.request as AuthRequest | undefined) ?? null;
}
