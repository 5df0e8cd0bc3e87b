// Cross-site form posts are refused before any work (login CSRF, consent CSRF, lockout
// spraying from another site's page). Every page form is served by this origin and posts back
// to it, so an honest browser always says "same-origin".
//
// Signals, strongest first (Fetch Metadata, W3C; RFC 6454 §7 Origin):
// - `Sec-Fetch-Site`: sent by every current browser on every request and not settable by page
//   script. Only `same-origin` and `none` (the user acted directly) pass; `same-site` is refused
//   too, since a sibling subdomain is not this server. Even then an `Origin` naming another site
//   refuses (an honest browser never sends the two in disagreement).
// - `Origin`, for browsers without Fetch Metadata: it must be this server's origin, and `null`
//   is refused. Our pages send `Referrer-Policy: same-origin` (src/http/responses.ts), under
//   which the Fetch standard has the browser send our real origin on our own form posts
//   ("append a request Origin header"); `null` comes from pages we do not serve (another site
//   under `no-referrer`, a sandboxed frame, a data: URL), so letting it through would let such a
//   page post the attacker's credentials to /login in a legacy browser (login CSRF).
// - Neither header: not a browser (a command-line or test client that reads forms). It is let
//   through, because a cross-site attack needs a victim's browser. (Browsers that send no
//   Origin on form posts at all, e.g. Firefox before 70, are not told apart from these.)
// Beyond this, the consent form needs the SameSite=Lax session cookie, which no cross-site POST
// carries, and a CSRF token bound to it (src/pages/browser-session.ts).

import { html } from "./responses.ts";
import { messagePage } from "../pages/templates.ts";

/** Why a POST is refused as cross-site, or null when it may proceed. */
export function crossSiteReason(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  const origin = request.headers.get("origin");
  // With Fetch Metadata present, an Origin naming another site still refuses (defence in depth:
  // the two never disagree in an honest browser); an opaque `null` is left to Sec-Fetch-Site.
  const foreign = origin !== null && origin !== new URL(request.url).origin;
  if (foreign && (site === null || origin !== "null")) return `Origin: ${origin.slice(0, 100)}`;
  return null;
}

/** 403 page for a cross-site form post; the handler never runs, so nothing changes. */
export function crossSiteRefusal(request: Request): Response | null {
  if (crossSiteReason(request) === null) return null;
  return html(
    messagePage(
      "Request refused",
      "This form was sent from another website, so it was not accepted. Go back to your application and start signing in again.",
    ),
    403,
  );
}
