// Discovery: a client that knows only the /mcp URL finds everything else from these
// documents (RFC 9728 protected-resource metadata → RFC 8414 server metadata → JWKS).

import { beforeAll, describe, expect, it } from "vitest";
import { call, ORIGIN, RESOURCE, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const getJson = async (path: string) => {
  const res = await call(path);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("access-control-allow-origin")).toBe("*");
  return (await res.json()) as Record<string, unknown>;
};

describe("RFC 8414: authorization server metadata", () => {
  it("names this origin as issuer and lists every endpoint and capability a public PKCE client needs", async () => {
    const doc = await getJson("/.well-known/oauth-authorization-server");
    expect(doc).toMatchObject({
      issuer: ORIGIN,
      authorization_endpoint: `${ORIGIN}/authorize`,
      token_endpoint: `${ORIGIN}/token`,
      registration_endpoint: `${ORIGIN}/register`,
      jwks_uri: `${ORIGIN}/.well-known/jwks.json`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none", "client_secret_basic", "client_secret_post"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(doc.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    expect(doc.scopes_supported).toContain("account:read");
  });

  it("every advertised endpoint exists on this Worker", async () => {
    const doc = await getJson("/.well-known/oauth-authorization-server");
    for (const key of ["authorization_endpoint", "token_endpoint", "registration_endpoint", "jwks_uri"]) {
      const res = await call(new URL(doc[key] as string).pathname, { redirect: "manual" });
      await res.body?.cancel();
      expect([404, 500]).not.toContain(res.status);
    }
  });
});

describe("RFC 9728: protected resource metadata", () => {
  it.each(["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])(
    "%s names origin + /mcp as the resource and this origin as its authorization server",
    async (path) => {
      const doc = await getJson(path);
      expect(doc.resource).toBe(RESOURCE);
      expect(doc.authorization_servers).toEqual([ORIGIN]);
      expect(doc.bearer_methods_supported).toEqual(["header"]);
    },
  );

  it("the issuer it names serves the server metadata, whose issuer matches exactly (RFC 8414 §3.3)", async () => {
    const resource = await getJson("/.well-known/oauth-protected-resource/mcp");
    const issuer = (resource.authorization_servers as string[])[0]!;
    const server = await getJson(`${new URL(issuer).pathname.replace(/\/$/, "")}/.well-known/oauth-authorization-server`);
    expect(server.issuer).toBe(issuer);
  });
});

describe("RFC 7517: JWKS", () => {
  it("publishes exactly one ES256 public key, without private parts", async () => {
    const doc = await getJson("/.well-known/jwks.json");
    const keys = doc.keys as Array<Record<string, unknown>>;
    expect(keys).toHaveLength(1);
    const key = keys[0]!;
    expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(typeof key.kid).toBe("string");
    expect(typeof key.x).toBe("string");
    expect(typeof key.y).toBe("string");
    expect(key).not.toHaveProperty("d");
  });

  it("serves the same key on every request", async () => {
    const a = await getJson("/.well-known/jwks.json");
    const b = await getJson("/.well-known/jwks.json");
    expect(b).toEqual(a);
  });
});
