// The pure OAuth 2.1 rules in domain/oauth.ts, grouped by the RFC section each implements:
// redirect URI matching and registration, PKCE shapes, scopes, and what the consent page shows.

import { describe, expect, it } from "vitest";
import {
  DEFAULT_SCOPES, SUPPORTED_SCOPES, isInteractionRequired, isValidCodeChallenge, isValidCodeVerifier, parseScopes,
  redirectDestination, redirectReach, redirectUriMatches, redirectUriProblem,
} from "../../domain/oauth.ts";

const LOOPBACK = "http://127.0.0.1:33418/callback";

describe("OAuth 2.1 §2.3.1: a presented redirect_uri must match a registered one exactly", () => {
  it.each([
    "https://app.example/callback",
    "https://app.example/callback?tenant=a",
    "com.example.app:/oauth2redirect",
    LOOPBACK,
  ])("matches %s against itself", (uri) => expect(redirectUriMatches(uri, uri)).toBe(true));

  it.each<[string, string, string]>([
    ["another path", "https://app.example/callback", "https://app.example/callback/extra"],
    ["a trailing slash", "https://app.example/callback", "https://app.example/callback/"],
    ["an added query", "https://app.example/callback", "https://app.example/callback?x=1"],
    ["another query", "https://app.example/callback?tenant=a", "https://app.example/callback?tenant=b"],
    ["a dropped query", "https://app.example/callback?tenant=a", "https://app.example/callback"],
    ["an added fragment", "https://app.example/callback", "https://app.example/callback#x"],
    ["another host", "https://app.example/callback", "https://evil.example/callback"],
    ["a subdomain of the registered host", "https://app.example/callback", "https://evil.app.example/callback"],
    ["the registered host as a prefix", "https://app.example/callback", "https://app.example.evil.example/callback"],
    ["the registered host as userinfo", "https://app.example/callback", "https://app.example@evil.example/callback"],
    ["http instead of https", "https://app.example/callback", "http://app.example/callback"],
    ["another path of a private-use scheme", "com.example.app:/oauth2redirect", "com.example.app:/other"],
    ["another private-use scheme", "com.example.app:/oauth2redirect", "com.evil.app:/oauth2redirect"],
  ])("refuses %s", (_name, registered, presented) => expect(redirectUriMatches(registered, presented)).toBe(false));

  it.each<[string, string, string]>([
    ["an explicit port", "https://app.example/callback", "https://app.example:8443/callback"],
    ["a changed port", "https://app.example:8443/callback", "https://app.example:9443/callback"],
    ["a dropped port", "https://app.example:8443/callback", "https://app.example/callback"],
  ])("never lets a non-loopback URI vary its port: refuses %s", (_name, registered, presented) =>
    expect(redirectUriMatches(registered, presented)).toBe(false));

  it("never lets an https loopback URI vary its port (the exception is for http loopback only)", () =>
    expect(redirectUriMatches("https://127.0.0.1:33418/callback", "https://127.0.0.1:51000/callback")).toBe(false));

  it("refuses anything when either side is not a URI", () => {
    expect(redirectUriMatches("not a uri", LOOPBACK)).toBe(false);
    expect(redirectUriMatches(LOOPBACK, "not a uri")).toBe(false);
  });
});

describe("RFC 8252 §7.3: a loopback redirect_uri may use any port", () => {
  it.each<[string, string]>([
    ["http://127.0.0.1:33418/callback", "http://127.0.0.1:51000/callback"],
    ["http://127.0.0.1:33418/callback", "http://127.0.0.1/callback"],
    ["http://127.0.0.1/callback", "http://127.0.0.1:51000/callback"],
    ["http://[::1]:33418/callback", "http://[::1]:51000/callback"],
    ["http://localhost:33418/callback", "http://localhost:51000/callback"],
    ["http://127.0.0.1:33418/callback?client=cli", "http://127.0.0.1:51000/callback?client=cli"],
  ])("%s accepts %s", (registered, presented) => expect(redirectUriMatches(registered, presented)).toBe(true));

  it.each<[string, string]>([
    ["another loopback host name", "http://localhost:51000/callback"],
    ["the IPv6 loopback for an IPv4 registration", "http://[::1]:51000/callback"],
    ["a non-loopback host", "http://192.168.1.10:51000/callback"],
    ["a host that starts with localhost", "http://localhost.evil.example:51000/callback"],
    ["another path", "http://127.0.0.1:51000/other"],
    ["a longer path", "http://127.0.0.1:51000/callback/extra"],
    ["an added query", "http://127.0.0.1:51000/callback?x=1"],
    ["a fragment", "http://127.0.0.1:51000/callback#x"],
    ["userinfo", "http://user@127.0.0.1:51000/callback"],
    ["userinfo with a password", "http://user:pass@127.0.0.1:51000/callback"],
    ["https instead of http", "https://127.0.0.1:51000/callback"],
  ])("but never %s", (_name, presented) => expect(redirectUriMatches(LOOPBACK, presented)).toBe(false));

  it("keeps a registered query fixed while the port varies", () =>
    expect(redirectUriMatches("http://127.0.0.1:33418/callback?client=cli", "http://127.0.0.1:51000/callback?client=other")).toBe(false));

  it("does not let a loopback registration widen to a non-loopback one, or the reverse", () => {
    expect(redirectUriMatches("https://app.example/callback", "http://127.0.0.1:51000/callback")).toBe(false);
    expect(redirectUriMatches(LOOPBACK, "https://app.example/callback")).toBe(false);
  });
});

describe("RFC 7591 §2 + OAuth 2.1 §2.3: what may be registered as a redirect_uri", () => {
  it.each([
    "https://app.example/callback",
    "https://app.example:8443/callback?tenant=a",
    "http://127.0.0.1:33418/callback",
    "http://127.0.0.1/callback",
    "http://[::1]:33418/callback",
    "http://localhost:33418/callback",
    "com.example.app:/oauth2redirect", // RFC 8252 §7.1 private-use URI scheme
    "com.example.app://callback",
  ])("accepts %s", (uri) => expect(redirectUriProblem(uri)).toBeNull());

  it.each<[string, string, RegExp]>([
    ["a relative URI", "/callback", /not an absolute URI/],
    ["an empty string", "", /not an absolute URI/],
    ["a fragment (RFC 6749 §3.1.2)", "https://app.example/callback#frag", /fragment/],
    ["a fragment on a loopback URI", "http://127.0.0.1:33418/callback#frag", /fragment/],
    ["userinfo", "https://user@app.example/callback", /user information/],
    ["userinfo with a password", "https://user:secret@app.example/callback", /user information/],
    ["a javascript: URI", "javascript:alert(1)", /scheme javascript: is not allowed/],
    ["a javascript: URI in capitals", "JavaScript:alert(1)", /scheme javascript: is not allowed/],
    ["a data: URI", "data:text/html,<script>alert(1)</script>", /scheme data: is not allowed/],
    ["a file: URI", "file:///etc/passwd", /scheme file: is not allowed/],
    ["a vbscript: URI", "vbscript:msgbox(1)", /scheme vbscript: is not allowed/],
    ["a blob: URI", "blob:https://app.example/0c1d", /scheme blob: is not allowed/],
    ["http to a public host", "http://app.example/callback", /only allowed for loopback/],
    ["http to a private address", "http://192.168.1.10/callback", /only allowed for loopback/],
    ["http to the any-address", "http://0.0.0.0/callback", /only allowed for loopback/],
    ["http to a host that starts with localhost", "http://localhost.evil.example/callback", /only allowed for loopback/],
    ["HTTP in capitals to a public host", "HTTP://app.example/callback", /only allowed for loopback/],
  ])("refuses %s", (_name, uri, message) => expect(redirectUriProblem(uri)).toMatch(message));
});

describe("RFC 7636 §4.1: a code_verifier is 43–128 unreserved characters", () => {
  const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

  it.each([43, 64, 128])("accepts a verifier of length %i", (n) => expect(isValidCodeVerifier("a".repeat(n))).toBe(true));

  it.each([0, 1, 42, 129, 256])("refuses a verifier of length %i", (n) => expect(isValidCodeVerifier("a".repeat(n))).toBe(false));

  it("accepts every unreserved character (ALPHA / DIGIT / - . _ ~)", () => {
    expect(isValidCodeVerifier(unreserved)).toBe(true);
    expect(isValidCodeVerifier(unreserved.slice(0, 43))).toBe(true);
  });

  it.each(["+", "/", "=", " ", "%", "!", "é", "\n"])("refuses a verifier containing %j", (c) =>
    expect(isValidCodeVerifier("a".repeat(42) + c)).toBe(false));
});

describe("RFC 7636 §4.2: an S256 code_challenge is 43 base64url characters", () => {
  // The RFC 7636 Appendix B example challenge.
  const example = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

  it("accepts the RFC 7636 Appendix B challenge", () => expect(isValidCodeChallenge(example)).toBe(true));

  it.each([42, 44, 0, 128])("refuses a challenge of length %i", (n) => expect(isValidCodeChallenge("a".repeat(n))).toBe(false));

  it.each([".", "~", "+", "/", "="])("refuses a challenge containing %j (not in the base64url alphabet)", (c) =>
    expect(isValidCodeChallenge(example.slice(0, 42) + c)).toBe(false));
});

describe("RFC 6749 §3.3: scope is a space-delimited list of known scopes", () => {
  it.each([undefined, "", "   "])("gives the default scopes for %j", (raw) =>
    expect(parseScopes(raw)).toEqual({ scopes: DEFAULT_SCOPES }));

  it("accepts every supported scope, in the order given", () =>
    expect(parseScopes([...SUPPORTED_SCOPES].reverse().join(" "))).toEqual({ scopes: [...SUPPORTED_SCOPES].reverse() }));

  it("drops repeated scopes and extra spaces", () =>
    expect(parseScopes("  account:read  account:manage account:read ")).toEqual({ scopes: ["account:read", "account:manage"] }));

  it.each<[string, string]>([
    ["root", "root"],
    ["account:read root", "root"],
    ["Account:Read", "Account:Read"], // case-sensitive
    ["account:read,account:manage", "account:read,account:manage"], // commas are not delimiters
    ["account:read\taccount:manage", "account:read\taccount:manage"], // only spaces delimit
  ])("refuses %j, naming the unknown scope", (raw, invalid) => expect(parseScopes(raw)).toEqual({ invalid }));
});

describe("RFC 8252 §8.6: a redirect to loopback or to an app scheme reaches a program nobody can identify", () => {
  it.each<[string, "loopback" | "app"]>([
    ["http://127.0.0.1:33418/callback", "loopback"],
    ["http://127.0.0.1/callback", "loopback"],
    ["http://[::1]:9/cb", "loopback"],
    ["http://localhost:9/cb", "loopback"],
    ["https://127.0.0.1:8443/callback", "loopback"],
    ["https://127.9.8.7/callback", "loopback"],
    ["https://127.1/callback", "loopback"], // parsed as 127.0.0.1
    ["https://0x7f000001/callback", "loopback"], // parsed as 127.0.0.1
    ["https://[0:0:0:0:0:0:0:1]/cb", "loopback"],
    ["https://[::ffff:127.0.0.1]/cb", "loopback"],
    ["https://0.0.0.0/cb", "loopback"],
    ["https://LOCALHOST:8443/cb", "loopback"],
    ["https://localhost./cb", "loopback"],
    ["https://app.localhost/cb", "loopback"],
    ["com.example.app:/oauth2redirect", "app"],
    ["com.example.app://oauth2redirect", "app"],
    ["http://app.example/callback", "app"], // never registrable; if it were, not the web's https
    ["not a uri", "app"],
  ])("%s is %s, so consent is never remembered for it", (uri, reach) => {
    expect(redirectReach(uri)).toBe(reach);
    expect(isInteractionRequired(uri)).toBe(true);
  });

  it.each([
    "https://app.example/callback",
    "https://app.example:8443/callback?x=1",
    "https://127.0.0.1.example/cb",
    "https://localhost.example/cb",
    "https://mylocalhost/cb",
    "https://128.0.0.1/cb",
  ])("%s is on the web, so consent may be remembered", (uri) => {
    expect(redirectReach(uri)).toBe("web");
    expect(isInteractionRequired(uri)).toBe(false);
  });
});

describe("the consent page: where the answer goes", () => {

  it.each<[string, string]>([
    ["https://app.example/callback?x=1", "app.example"],
    ["https://app.example:8443/callback", "app.example:8443"],
    ["http://127.0.0.1:33418/callback", "127.0.0.1:33418"],
    ["http://[::1]:33418/callback", "[::1]:33418"],
  ])("names the host and port of %s", (uri, shown) => expect(redirectDestination(uri)).toBe(shown));

  it.each(["com.example.app:/oauth2redirect", "not a uri"])("shows the whole of %s when it has no host", (uri) =>
    expect(redirectDestination(uri)).toBe(uri));
});

describe("RFC 8252 §7.3: only the port of a loopback redirect may differ, nothing else", () => {
  const registered = "http://127.0.0.1:33418/callback";
  it.each([
    "http://127.0.0.1:5/callback?",
    "http://127.0.0.1:5/callback#",
    "http://127.0.0.1:5/x/../callback",
    "http://127.1:5/callback",
    "http://0x7f000001:5/callback",
    "HTTP://127.0.0.1:5/callback",
  ])("does not accept the other spelling %s", (presented) => expect(redirectUriMatches(registered, presented)).toBe(false));
  it("refuses an empty fragment and empty user information at registration", () => {
    expect(redirectUriProblem("https://app.example/cb#")).not.toBeNull();
    expect(redirectUriProblem("https://@app.example/cb")).not.toBeNull();
  });
});
