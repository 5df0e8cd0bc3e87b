// Worker entry: routes requests to discovery, OAuth endpoints, pages and /mcp.
// Anything a client sends that fails is a 4xx from the handler; an unexpected throw is a
// 500 with no detail, logged with the request id only (never a secret).

import type { Env } from "./env.ts";
import { BadRequest } from "./http/body.ts";
import { throttled, type ThrottledAction } from "./http/throttle.ts";
import { html, issuerOf, json, oauthError, resourceOf } from "./http/responses.ts";
import { jwks } from "./keys.ts";
import { mcp } from "./mcp/route.ts";
import { authorize } from "./oauth/authorize.ts";
import { authorizationServerMetadata, protectedResourceMetadata } from "./oauth/metadata.ts";
import { registerClient } from "./oauth/register.ts";
import { introspect } from "./oauth/introspect.ts";
import { revoke } from "./oauth/revoke.ts";
import { token } from "./oauth/token.ts";
import { showSignIn, showSignUp, signOut, submitConsent, submitSignIn, submitSignUp } from "./pages/flows.ts";
import { crossSiteRefusal } from "./http/same-origin.ts";
import { messagePage } from "./pages/templates.ts";
import {
  confirmEnrollmentPage, disableMfa, regenerateRecoveryCodes, showAccountSecurity, startEnrollment, submitAccountSecurity,
  submitPasswordChange, submitSecondFactor,
} from "./pages/mfa.ts";

export { AccountObject } from "./objects/account-object.ts";
export { AuditShardObject } from "./objects/audit-shard-object.ts";
export { DirectoryShardObject } from "./objects/directory-shard-object.ts";
export { ClientRegistryObject } from "./objects/client-registry-object.ts";
export { EmailIndexObject } from "./objects/email-index-object.ts";
export { SigningKeysObject } from "./objects/signing-keys-object.ts";
export { ThrottleObject } from "./objects/throttle-object.ts";

type Handler = (request: Request, env: Env, ctx: ExecutionContext) => Promise<Response> | Response;

/** CORS preflight for the endpoints browser-based MCP clients call (not /authorize). */
const preflight: Handler = () =>
  new Response(null, {
    status: 204,
    headers: {
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
      "Access-Control-Allow-Headers": "Content-Type, Authorization, MCP-Protocol-Version",
      "Access-Control-Max-Age": "86400",
    },
  });

/** Routes a person sees in a browser: their bad input gets a page, not JSON. */
const PAGES = new Set(["/authorize", "/signup", "/login", "/consent", "/logout", "/",
  "/login/mfa", "/account/security", "/account/security/verify", "/account/mfa/enroll", "/account/mfa/confirm",
  "/account/mfa/recovery-codes", "/account/mfa/disable", "/account/password"]);

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  "/.well-known/oauth-authorization-server": { GET: authorizationServerMetadata, OPTIONS: preflight },
  "/.well-known/oauth-protected-resource": { GET: protectedResourceMetadata, OPTIONS: preflight },
  "/.well-known/oauth-protected-resource/mcp": { GET: protectedResourceMetadata, OPTIONS: preflight },
  "/.well-known/jwks.json": { GET: async (_r, env) => json(await jwks(env), 200, { "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300" }) },
  "/register": { POST: throttle("register", registerClient), OPTIONS: preflight },
  "/authorize": { GET: authorize },
  "/token": { POST: token, OPTIONS: preflight },
  "/revoke": { POST: revoke, OPTIONS: preflight },
  "/introspect": { POST: introspect },
  "/signup": { GET: showSignUp, POST: throttle("signup", submitSignUp) },
  "/login": { GET: showSignIn, POST: throttle("signin", submitSignIn) },
  // Second factor and security settings (src/pages/mfa.ts): every POST guesses or changes a
  // credential, so each takes from the same per-IP sign-in bucket as /login.
  "/login/mfa": { POST: throttle("signin", submitSecondFactor) },
  "/account/security": { GET: showAccountSecurity, POST: throttle("signin", submitAccountSecurity) },
  "/account/security/verify": { POST: throttle("signin", submitSecondFactor) },
  "/account/mfa/enroll": { POST: throttle("signin", startEnrollment) },
  "/account/mfa/confirm": { POST: throttle("signin", confirmEnrollmentPage) },
  "/account/mfa/recovery-codes": { POST: throttle("signin", regenerateRecoveryCodes) },
  "/account/mfa/disable": { POST: throttle("signin", disableMfa) },
  "/account/password": { POST: throttle("signin", submitPasswordChange) },
  "/consent": { POST: submitConsent },
  "/logout": { POST: signOut },
  "/": { GET: (request) => html(messagePage("Accounts for MCP servers", `Point your MCP client at ${resourceOf(request)}. Your security settings (two-step verification, password) are at ${issuerOf(request)}/account/security.`)) },
};

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const { pathname } = new URL(request.url);
    if (pathname === "/mcp") return mcp(request, env, ctx).catch((e) => failure(request, e));
    const route = ROUTES[pathname];
    if (!route) return json({ error: "not_found", error_description: `no route ${pathname}` }, 404);
    // A route with a CORS preflight is meant for cross-origin callers (browser-based MCP
    // clients); every other POST is a same-origin form (sign-in, sign-up, consent, MFA) or a
    // server-to-server call, so one a browser marks cross-site is refused before its handler
    // runs: a 403 page, nothing changed (login/consent CSRF, http/same-origin.ts).
    if (request.method === "POST" && !route.OPTIONS) {
      const refused = crossSiteRefusal(request);
      if (refused) return refused;
    }
    // HEAD is GET without the body (RFC 9110 §9.3.2).
    const get = route.GET;
    const handler = request.method === "HEAD" && get ? stripBody(get) : route[request.method];
    if (!handler) {
      return json({ error: "method_not_allowed", error_description: `${request.method} is not allowed on ${pathname}` }, 405, {
        Allow: Object.keys(route).join(", "),
      });
    }
    try {
      return await handler(request, env, ctx);
    } catch (error) {
      // Malformed input found deep in a handler (repeated parameter, bad body) is the client's 4xx.
      if (error instanceof BadRequest) {
        return PAGES.has(pathname)
          ? html(messagePage("Something went wrong", error.reason), error.status)
          : oauthError("invalid_request", error.reason, error.status);
      }
      return failure(request, error);
    }
  },
} satisfies ExportedHandler<Env>;

/** 429 with Retry-After before the handler does any work (scrypt, storage) for a throttled IP. */
function throttle(action: ThrottledAction, handler: Handler): Handler {
  return async (request, env, ctx) => {
    const wait = await throttled(env, request, action);
    if (wait === null) return handler(request, env, ctx);
    const headers = { "Retry-After": String(wait) };
    return action === "register"
      ? oauthError("temporarily_unavailable", `too many registrations from this address; retry in ${wait} s`, 429, { ...headers, "Access-Control-Allow-Origin": "*" })
      : html(messagePage("Too many attempts", `Too many attempts from your network. Try again in ${wait} seconds.`), 429, headers);
  };
}

const stripBody = (handler: Handler): Handler => async (request, env, ctx) => {
  const response = await handler(request, env, ctx);
  return new Response(null, { status: response.status, headers: response.headers });
};

function failure(request: Request, error: unknown): Response {
  const id = crypto.randomUUID();
  console.error(JSON.stringify({ level: "error", id, path: new URL(request.url).pathname, error: error instanceof Error ? error.name + ": " + error.message.slice(0, 200) : "unknown" }));
  return oauthError("server_error", `internal error (reference ${id})`, 500);
}
