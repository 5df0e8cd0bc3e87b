// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document-02) without a
// network: the Client Identifier URL rules, the SSRF guard table, document validation, the
// cache lifetime read from HTTP headers, the cache in ClientRegistryObject, and what
// /authorize, /register and discovery do with URL client ids. Fetching real documents (size,
// time, redirects, cache hits) is proven end to end in test/e2e/cimd.test.ts.

import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { cacheLifetime, CACHE_DEFAULT_S, CACHE_MAX_S, CACHE_MIN_S, validateDocument } from "../../src/oauth/cimd.ts";
import { clientIdUrlProblem, hostVerdict, isMetadataUrl, metadataDocumentHost } from "../../src/oauth/cimd-url.ts";
import { SUPPORTED_SCOPES } from "../../domain/oauth.ts";
import { call, jsonBody, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const production = { allowLoopback: false };
const development = { allowLoopback: true };

describe("draft §3: a Client Identifier URL", () => {
  it.each([
    "https://client.example.com/oauth/metadata.json",
    "https://client.example.com:8443/client",
    "https://client.example.com/client?v=1",
    "https://93.184.216.34/client.json",
    "https://[2606:4700::1111]/client.json",
  ])("accepts %s", (url) => {
    expect(clientIdUrlProblem(url, production)).toBeNull();
  });

  it.each([
    ["http://client.example.com/client", "https"],
    ["HTTPS://client.example.com/client", "https"],
    ["ftp://client.example.com/client", "https"],
    ["https://client.example.com", "path"],
    ["https://client.example.com/", "path"],
    ["https://client.example.com/a/../b", ". or .."],
    ["https://client.example.com/a/./b", ". or .."],
    ["https://client.example.com/a/%2e%2E/b", ". or .."],
    ["https://client.example.com/client#frag", "fragment"],
    ["https://client.example.com/client#", "fragment"],
    ["https://user:pw@client.example.com/client", "user information"],
    ["https://user@client.example.com/client", "user information"],
    ["https://client.example.com/a b", "printable ASCII"],
    ["https://client.example.com/a\tb", "printable ASCII"],
    ["https://client.example.com\\@evil.example/x", "backslashes"],
    ["https://client.example.com/é", "printable ASCII"],
    [`https://client.example.com/${"a".repeat(600)}`, "longer than"],
    ["https://", "not a valid URL"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(clientIdUrlProblem(url, production)).toContain(reason);
  });

  it("routes only URL-shaped client ids to document resolution; registered ids never look like URLs", () => {
    expect(isMetadataUrl("https://client.example.com/c")).toBe(true);
    expect(isMetadataUrl("http://127.0.0.1:9/c")).toBe(true);
    expect(isMetadataUrl("AbCd_-123")).toBe(false);
    expect(isMetadataUrl("client-https://x")).toBe(false);
  });

  it("§8.5: the consent page can show the host a CIMD client claims, and nothing for other clients", () => {
    expect(metadataDocumentHost("https://client.example.com:8443/c")).toBe("client.example.com:8443");
    expect(metadataDocumentHost("AbCd_-123")).toBeNull();
  });
});

describe("draft §8.6: no fetch from special-use addresses (RFC 6890)", () => {
  // Each URL goes through the WHATWG parser first, as fetch() would: decimal, hex, octal and
  // short IPv4 spellings and IPv4-in-IPv6 forms are normalized before the guard sees them.
  it.each([
    ["https://10.1.2.3/c", "private"],
    ["https://172.16.0.1/c", "private"],
    ["https://172.31.255.255/c", "private"],
    ["https://192.168.1.1/c", "private"],
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://100.64.0.1/c", "CGNAT"],
    ["https://0.0.0.0/c", "this network"],
    ["https://224.0.0.1/c", "multicast"],
    ["https://255.255.255.255/c", "reserved"],
    ["https://198.18.0.1/c", "benchmarking"],
    ["https://192.0.2.1/c", "documentation"],
    ["https://3232235777/c", "private"], // 192.168.1.1 in decimal
    ["https://0xA9.0xFE.0xA9.0xFE/c", "link-local"], // 169.254.169.254 in hex
    ["https://0251.0376.0251.0376/c", "link-local"], // the same in octal
    ["https://10.1/c", "private"], // short form of 10.0.0.1
    ["https://[fc00::1]/c", "special-use IPv6"],
    ["https://[fd12:3456::1]/c", "special-use IPv6"],
    ["https://[fe80::1]/c", "special-use IPv6"],
    ["https://[ff02::1]/c", "special-use IPv6"],
    ["https://[::]/c", "special-use IPv6"],
    ["https://[::ffff:10.0.0.1]/c", "special-use IPv6"],
    ["https://[::ffff:127.0.0.1]/c", "special-use IPv6"],
    ["https://[64:ff9b::a00:1]/c", "special-use IPv6"],
    ["https://[2001:db8::1]/c", "special-use IPv6"],
    ["https://[2002:c0a8:101::1]/c", "special-use IPv6"],
    ["https://intranet/c", "single-label"],
    ["https://printer.local/c", ".local"],
    ["https://db.internal/c", ".internal"],
    ["https://router.home.arpa/c", ".arpa"],
    ["https://x.onion/c", ".onion"],
  ])("refuses %s (%s)", (url, reason) => {
    expect(clientIdUrlProblem(url, production)).toContain(reason);
    expect(clientIdUrlProblem(url, development), "the development setting opens loopback only").toContain(reason);
  });

  it.each([
    "https://127.0.0.1/c",
    "https://127.1.2.3/c",
    "https://2130706433/c", // 127.0.0.1 in decimal
    "https://0x7f.1/c",
    "https://[::1]/c",
    "https://localhost/c",
    "https://LOCALHOST./c",
    "https://app.localhost/c",
    "http://127.0.0.1:8080/c",
  ])("refuses loopback %s unless ALLOW_LOOPBACK_CIMD is on", (url) => {
    expect(clientIdUrlProblem(url, production)).toMatch(/loopback|https/);
    expect(clientIdUrlProblem(url, development)).toBeNull();
  });

  it("the development setting allows http for loopback hosts only", () => {
    expect(clientIdUrlProblem("http://client.example.com/c", development)).toContain("https");
    expect(clientIdUrlProblem("http://10.0.0.1/c", development)).toContain("private");
  });

  it("classifies host names as the URL parser leaves them", () => {
    expect(hostVerdict("client.example.com")).toBe("public");
    expect(hostVerdict("[2606:4700::1111]")).toBe("public");
    expect(hostVerdict("8.8.8.8")).toBe("public");
    expect(hostVerdict("127.0.0.1")).toBe("loopback");
  });
});

const URL_ID = "https://client.example.com/oauth/client.json";
const doc = (overrides: Record<string, unknown> = {}) => ({
  client_id: URL_ID,
  client_name: "Example client",
  redirect_uris: ["http://127.0.0.1:33418/callback"],
  ...overrides,
});

describe("draft §4 and §4.1: the document", () => {
  it("is used with defaults filled in: auth method none, both grant types, every scope, the host as name when unnamed", () => {
    const now = Date.now();
    const result = validateDocument(URL_ID, doc({ client_name: undefined }), now);
    expect(result).toEqual({
      ok: true,
      client: {
        client_id: URL_ID,
        client_id_issued_at: Math.floor(now / 1000),
        client_name: "client.example.com",
        redirect_uris: ["http://127.0.0.1:33418/callback"],
        grant_types: ["authorization_code", "refresh_token"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
        scope: SUPPORTED_SCOPES.join(" "),
      },
    });
  });

  it.each([
    ["its client_id differs from the URL", doc({ client_id: "https://client.example.com/other.json" }), "does not match"],
    ["its client_id differs only by a default port", doc({ client_id: "https://client.example.com:443/oauth/client.json" }), "does not match"],
    ["it has no client_id", doc({ client_id: undefined }), "does not match"],
    ["it uses client_secret_basic", doc({ token_endpoint_auth_method: "client_secret_basic" }), "shared secret"],
    ["it uses client_secret_post", doc({ token_endpoint_auth_method: "client_secret_post" }), "shared secret"],
    ["it uses client_secret_jwt", doc({ token_endpoint_auth_method: "client_secret_jwt" }), "shared secret"],
    ["it uses private_key_jwt (not supported here)", doc({ token_endpoint_auth_method: "private_key_jwt" }), "must be none"],
    ["it carries a client_secret", doc({ client_secret: "s3cret" }), "client_secret"],
    ["it has no redirect_uris", doc({ redirect_uris: undefined }), "redirect_uris"],
    ["it has an empty redirect_uris", doc({ redirect_uris: [] }), "redirect_uris"],
    ["a redirect uri is http on a public host", doc({ redirect_uris: ["http://evil.example/cb"] }), "loopback"],
    ["a redirect uri has a fragment", doc({ redirect_uris: ["https://app.example/cb#x"] }), "fragment"],
    ["it asks for client_credentials", doc({ grant_types: ["client_credentials"] }), "grant_types"],
    ["it asks for the implicit flow", doc({ response_types: ["token"] }), "response_types"],
    ["it names an unknown scope", doc({ scope: "account:read admin:everything" }), "unknown scope"],
    ["its name hides a bidi override", doc({ client_name: "Good\u202eliame" }), "control or formatting"],
    ["its name has a newline", doc({ client_name: "Good\nClient" }), "control or formatting"],
    ["its logo_uri is javascript:", doc({ logo_uri: "javascript:alert(1)" }), "https"],
    ["it is an array", [doc()], "JSON object"],
    ["it is a string", "hello", "JSON object"],
  ])("is refused when %s", (_name, body, problem) => {
    const result = validateDocument(URL_ID, body, Date.now());
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toContain(problem);
  });
});

describe("draft §5.2 + RFC 9111: how long a document is reused", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const h = (init: Record<string, string>) => new Headers(init);
  it.each([
    ["max-age=600", { "cache-control": "max-age=600" }, 600],
    ["public, max-age=600 with Age: 100", { "cache-control": "public, max-age=600", age: "100" }, 500],
    ["s-maxage wins over max-age (we are a shared cache)", { "cache-control": "max-age=600, s-maxage=120" }, 120],
    ["no-store", { "cache-control": "no-store, max-age=600" }, 0],
    ["no-cache (we do not revalidate)", { "cache-control": "no-cache" }, 0],
    ["max-age=0", { "cache-control": "max-age=0" }, 0],
    ["max-age=1 is raised to the minimum", { "cache-control": "max-age=1" }, CACHE_MIN_S],
    ["a year is capped at a day", { "cache-control": "max-age=31536000" }, CACHE_MAX_S],
    ["Expires one hour after Date", { date: "Thu, 01 Jan 2026 00:00:00 GMT", expires: "Thu, 01 Jan 2026 01:00:00 GMT" }, 3600],
    ["an invalid Expires is already stale", { expires: "0" }, 0],
    ["a malformed max-age falls back to Expires", { "cache-control": "max-age=abc", expires: "Thu, 01 Jan 2026 00:10:00 GMT" }, 600],
    ["no freshness information at all", {}, CACHE_DEFAULT_S],
  ])("%s", (_name, headers, seconds) => {
    expect(cacheLifetime(h(headers), now)).toBe(seconds);
  });
});

describe("draft §5.2: the cache in ClientRegistryObject", () => {
  const registry = (url: string) => env.CLIENTS.get(env.CLIENTS.idFromName(url));
  it("serves a validated document while fresh, never after expiry, and forgets it on demand", async () => {
    const url = `https://client.example.com/${crypto.randomUUID()}.json`;
    const result = validateDocument(url, { ...doc(), client_id: url }, Date.now());
    if (!result.ok) throw new Error(result.problem);
    const stub = registry(url);
    expect(await stub.cachedDocument(Date.now())).toBeNull();
    await stub.cacheDocument({ metadata: result.client, fetchedAt: 1_000, expiresAt: 2_000 });
    expect(await stub.cachedDocument(1_999)).toEqual(result.client);
    expect(await stub.cachedDocument(2_000)).toBeNull();
    await stub.cacheDocument(null);
    expect(await stub.cachedDocument(1_500)).toBeNull();
  });

  it("a cached document is not a registration: get() still finds no registered client", async () => {
    const url = `https://client.example.com/${crypto.randomUUID()}.json`;
    const result = validateDocument(url, { ...doc(), client_id: url }, Date.now());
    if (!result.ok) throw new Error(result.problem);
    await registry(url).cacheDocument({ metadata: result.client, fetchedAt: Date.now(), expiresAt: Date.now() + 60_000 });
    expect(await registry(url).get()).toBeNull();
  });
});

describe("RFC 6749 §4.1.2.1: /authorize with a document that cannot be used shows a page and never redirects", () => {
  const authorize = (clientId: string) =>
    call(`/authorize?${new URLSearchParams({ client_id: clientId, redirect_uri: "http://127.0.0.1:33418/callback", response_type: "code" })}`);

  it.each([
    ["https://169.254.169.254/latest/meta-data", "link-local"],
    ["https://10.0.0.1/client.json", "private"],
    ["http://127.0.0.1:9/client.json", "https"], // ALLOW_LOOPBACK_CIMD is off in wrangler.toml
    ["https://localhost/client.json", "loopback"],
    ["https://client.example.com/../client.json", ". or .."],
  ])("%s → 400 page naming the problem (%s), no fetch, no Location", async (clientId, problem) => {
    const res = await authorize(clientId);
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(text).toContain("client metadata document");
    expect(text).toContain(problem);
  });
});

describe("draft §7.1: registration never produces or accepts a URL client id", () => {
  it("a client_id sent to /register is ignored: the issued id is random, not the URL", async () => {
    const res = await call("/register", jsonBody({ client_id: URL_ID, client_name: "Squatter", redirect_uris: ["http://127.0.0.1:1/cb"] }));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { client_id: string };
    expect(body.client_id).not.toBe(URL_ID);
    expect(isMetadataUrl(body.client_id)).toBe(false);
  });
});

describe("draft §6 + MCP authorization: discovery", () => {
  it("authorization server metadata advertises client_id_metadata_document_supported", async () => {
    const metadata = (await (await call("/.well-known/oauth-authorization-server")).json()) as Record<string, unknown>;
    expect(metadata.client_id_metadata_document_supported).toBe(true);
  });

  it.each(["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])(
    "protected resource metadata %s never lists offline_access",
    async (path) => {
      const metadata = (await (await call(path)).json()) as { scopes_supported: string[] };
      expect(metadata.scopes_supported).toContain("account:read");
      expect(metadata.scopes_supported).not.toContain("offline_access");
    },
  );
});
