// Pure OAuth 2.1 rules: redirect URI matching, PKCE verifier shape, scopes, client metadata.
// Each rule names the RFC section it implements.

/**
 * Scopes this server understands. `account:read`: the user's own account and history.
 * `account:manage`: end the user's own sessions and withdraw consents.
 * `accounts:read`: the operator directory and projection health (needs an operator role too).
 * `audit:read`: the audit index of every account (needs an auditor role too).
 * `clients:manage`: register and disable OAuth clients and service accounts (needs admin too).
 * A tool runs only when the role allows it AND the token's scope covers it.
 */
export const SUPPORTED_SCOPES = ["account:read", "account:manage", "accounts:read", "audit:read", "clients:manage"] as const;
export const DEFAULT_SCOPES: ReadonlyArray<string> = ["account:read"];

/** RFC 6749 §3.3: space-delimited, case-sensitive; unknown scopes are an error, not ignored. */
export const parseScopes = (
  raw: string | undefined,
): { scopes: ReadonlyArray<string> } | { invalid: string } => {
  if (raw === undefined || raw.trim() === "") return { scopes: DEFAULT_SCOPES };
  const scopes = [...new Set(raw.split(" ").filter((s) => s.length > 0))];
  const unknown = scopes.find((s) => !(SUPPORTED_SCOPES as ReadonlyArray<string>).includes(s));
  return unknown ? { invalid: unknown } : { scopes };
};

/** RFC 7636 §4.1: 43–128 characters from the unreserved set. */
export const isValidCodeVerifier = (v: string): boolean => /^[A-Za-z0-9\-._~]{43,128}$/.test(v);

/** RFC 7636 §4.2: an S256 challenge is base64url(SHA-256(verifier)), 43 characters. */
export const isValidCodeChallenge = (c: string): boolean => /^[A-Za-z0-9\-_]{43}$/.test(c);

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

const parse = (uri: string): URL | null => {
  try {
    return new URL(uri);
  } catch {
    return null;
  }
};

export const isLoopbackHttp = (url: URL): boolean =>
  url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname);

/**
 * OAuth 2.1 §2.3.1 / RFC 9700 §4.1.3: exact string match, with one exception:
 * RFC 8252 §7.3 lets a native app's loopback redirect use any port, since the port
 * is picked at runtime. Everything else (scheme, host, path, query) must be identical.
 */
export const redirectUriMatches = (registered: string, presented: string): boolean => {
  if (registered === presented) return true;
  // Only the port of a loopback URI may differ: compare the raw strings with the port cut
  // out, so no other spelling (case, dot segments, empty query, numeric hosts) slips through.
  const withoutPort = (uri: string) => uri.replace(/^(http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost))(?::\d{1,5})?(?=[/?]|$)/, "$1");
  const loopback = /^http:\/\/(?:127\.0\.0\.1|\[::1\]|localhost)(?::\d{1,5})?(?:[/?]|$)/;
  return loopback.test(registered) && withoutPort(registered) === withoutPort(presented) && parse(presented) !== null;
};

/** RFC 7591 §2 + OAuth 2.1 §2.3: what a registered redirect URI may be. */
export const redirectUriProblem = (uri: string): string | null => {
  const url = parse(uri);
  if (!url) return `redirect_uri ${JSON.stringify(uri)} is not an absolute URI`;
  // RFC 6749 §3.1.2: no fragment component at all, empty included (so the raw string counts).
  if (url.hash !== "" || uri.includes("#")) return "redirect_uri must not contain a fragment";
  if (url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(uri)) {
    return "redirect_uri must not contain user information";
  }
  if (["javascript:", "data:", "file:", "vbscript:", "blob:"].includes(url.protocol)) {
    return `redirect_uri scheme ${url.protocol} is not allowed`;
  }
  if (url.protocol === "http:" && !isLoopbackHttp(url)) {
    return "http redirect_uri is only allowed for loopback hosts (RFC 8252 §7.3)";
  }
  return null;
};

/** Where the consent page says the answer goes: the host, or the whole URI for app schemes. */
export const redirectDestination = (uri: string): string => {
  const url = parse(uri);
  return url && url.host !== "" ? url.host : uri;
};

/**
 * Who can receive an answer sent to a redirect URI, judged from the URI presented in THIS
 * request (a client may register several kinds):
 * - "web": an https address on another host; only that host's owner receives it.
 * - "loopback": this computer (127.0.0.0/8, [::1], 0.0.0.0, localhost and *.localhost, any
 *   scheme): any program on it can listen on the port and call itself by any name
 *   (RFC 8252 §8.6; MCP authorization spec, security considerations).
 * - "app": a private-use URI scheme (RFC 8252 §7.1), or anything else not https: the operating
 *   system hands it to whichever app claimed the scheme, which may be any app (RFC 8252 §8.6).
 * An unparsable URI is "app": unknown means a program we cannot identify.
 */
export type RedirectReach = "web" | "loopback" | "app";

// After WHATWG URL parsing of http(s): IPv4 is dotted-decimal (127.1 -> 127.0.0.1), IPv6
// compressed and bracketed, names lower-cased.
const isLoopbackHostname = (host: string): boolean =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) ||
  host === "0.0.0.0" ||
  host === "[::1]" ||
  host === "[::]" ||
  /^\[::ffff:(?:7f[0-9a-f]{2}:[0-9a-f]{1,4}|0:0)\]$/.test(host) ||
  // RFC 6761 §6.3: localhost and every name under it resolve to loopback.
  /(?:^|\.)localhost\.?$/.test(host);

export const redirectReach = (uri: string): RedirectReach => {
  const url = parse(uri);
  if (url === null) return "app";
  if ((url.protocol === "http:" || url.protocol === "https:") && isLoopbackHostname(url.hostname)) return "loopback";
  return url.protocol === "https:" ? "web" : "app";
};

/**
 * Whether the person must answer this authorization request on the page even when they
 * granted the client before: yes whenever the presented redirect URI reaches a program Warden
 * cannot identify (loopback or a private-use scheme), since remembering consent there would
 * hand a code to whichever local program asks under the client's id (RFC 8252 §8.6).
 */
export const isInteractionRequired = (redirectUri: string): boolean => redirectReach(redirectUri) !== "web";
