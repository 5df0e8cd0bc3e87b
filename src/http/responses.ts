// Response helpers shared by every route: OAuth JSON errors (RFC 6749 §5.2), JSON, HTML
// pages with anti-framing headers, and the request metadata recorded beside events.

import type { RequestMeta } from "../objects/account-object.ts";

const NO_STORE = { "Cache-Control": "no-store", Pragma: "no-cache" } as const;

export const json = (body: unknown, status = 200, headers: HeadersInit = {}) =>
  new Response(JSON.stringify(body, null, 2), {
    status,
    headers: { "Content-Type": "application/json", ...NO_STORE, ...headers },
  });

/** RFC 6749 §5.2 error response; always `no-store` so no cache keeps it. */
export const oauthError = (error: string, description: string, status = 400, headers: HeadersInit = {}) =>
  json({ error, error_description: description }, status, headers);

/**
 * Pages are never framed (clickjacking, RFC 6749 §10.13) and never cached. Forms post only
 * to this origin, plus `formTargets`: browsers apply form-action to the redirect after a
 * submission, so the consent page names where its answer is redirected.
 * `Referrer-Policy: same-origin` sends no Referer to any other origin (a page URL may carry a
 * ticket), yet lets the browser send our real `Origin` on our own form posts, which
 * src/http/same-origin.ts requires when Fetch Metadata is missing (Fetch standard, "append a
 * request Origin header": `no-referrer` would make it `Origin: null`, like a hostile page's).
 */
export const html = (body: string, status = 200, headers: HeadersInit = {}, formTargets: ReadonlyArray<string> = []) =>
  new Response(body, {
    status,
    headers: {
      "Content-Type": "text/html; charset=utf-8",
      "X-Frame-Options": "DENY",
      "Content-Security-Policy": `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${formTargets.map((t) => " " + t).join("")}; frame-ancestors 'none'; base-uri 'none'`,
      "Referrer-Policy": "same-origin",
      "X-Content-Type-Options": "nosniff",
      ...NO_STORE,
      ...headers,
    },
  });

/**
 * A redirect never leaks the page that led to it (whose URL may carry a ticket) to another
 * origin, and is never cached: the target of an authorization response carries a code
 * (RFC 9700 §4.2.4). The redirect's own policy replaces the page's for the followed request
 * (Fetch standard, "set request's referrer policy on redirect"); `same-origin` sends nothing
 * to a client, loopback and app schemes included, all other origins.
 */
export const redirect = (location: string) =>
  new Response(null, { status: 302, headers: { Location: location, "Referrer-Policy": "same-origin", ...NO_STORE } });

/** Redirect back to the client with an error (RFC 6749 §4.1.2.1) and `iss` (RFC 9207 §2). */
export const errorRedirect = (issuer: string, redirectUri: string, state: string | null, error: string, description: string) => {
  const url = new URL(redirectUri);
  url.searchParams.set("error", error);
  url.searchParams.set("error_description", description);
  if (state !== null) url.searchParams.set("state", state);
  url.searchParams.set("iss", issuer);
  return redirect(url.toString());
};

export const requestMeta = (request: Request): RequestMeta => ({
  requestId: crypto.randomUUID(),
  at: Date.now(),
  clientIp: request.headers.get("cf-connecting-ip") ?? request.headers.get("x-real-ip"),
  userAgent: request.headers.get("user-agent")?.slice(0, 256) ?? null,
});

/** Issuer and resource are derived from the request origin (RFC 8414 §2, RFC 9728 §3). */
export const issuerOf = (request: Request) => new URL(request.url).origin;
export const resourceOf = (request: Request) => `${issuerOf(request)}/mcp`;
