// Cross-site form posts are refused before any work (login CSRF, consent CSRF, lockout
// spraying from another site's page). Every page form is served by this origin and posts back
// to it, so an honest browser always says "same-origin".
//
// Signals, strongest first (Fetch Metadata, W3C; RFC 6454 §7 Origin):
// - `Sec-Fetch-Site`: sent by every current browser on every request and not settable by page
//   script, so when present it decides alone. Only `same-origin` and `none` (the user acted
//   directly) pass; `same-site` is refused too, since a sibling subdomain is not this server.
// - `Origin`, for browsers without Fetch Metadata: it must be this server's origin. `null` is
//   let through: our pages send `Referrer-Policy: no-referrer`, and the Fetch standard then has
//   the browser send `Origin: null` on our own form posts ("append a request Origin header"),
//   so `null` says nothing about where a post came from.
// - Neither header: not a browser (a command-line or test client that reads forms). It is let
//   through, because a cross-site attack needs a victim's browser.
// What this cannot stop (a legacy browser posting from a no-referrer attacker page) the consent
// form stops anyway: it needs the SameSite=Lax session cookie, which no cross-site POST carries,
// and a CSRF token bound to it (src/pages/browser-session.ts).

import { html } from "./responses.ts";
import { messagePage } from "../pages/templates.ts";

/** Why a POST is refused as cross-site, or null when it may proceed. */
export function crossSiteReason(request: Request): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  if (site !== null) return null;
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== "null" && origin !== new URL(request.url).origin) return `Origin: ${origin.slice(0, 100)}`;
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
