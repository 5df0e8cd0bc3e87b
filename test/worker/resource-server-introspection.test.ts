// RFC 7662 introspection by resource servers: an operator registers a confidential client of
// kind resource_server (register_client with grant_types []); it may introspect every access
// token whose audience is a resource it serves, whoever the token was issued to, while an
// ordinary confidential client still sees only its own tokens.

import { beforeAll, describe, expect, it } from "vitest";
import { accountStub, meta, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";
import { callTool, claimsOf, operatorSession, postBasic, registerViaTool, serviceClient, serviceToken, type RegisteredClient } from "./machine-clients.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const introspect = async (caller: RegisteredClient, token: string) =>
  (await postBasic("/introspect", caller.client_id, caller.client_secret!, { token })).json() as Promise<Record<string, unknown>>;

async function setting() {
  const operator = await operatorSession();
  const resourceServer = await registerViaTool(operator, { client_name: "Billing API", grant_types: [] });
  const exporter = await serviceClient(operator);
  return { operator, resourceServer, exporter };
}

describe("register_client with grant_types []: a resource server", () => {
  it("is confidential, has no grant, no redirect and serves this server's /mcp resource by default", async () => {
    const { resourceServer } = await setting();
    expect(resourceServer).toMatchObject({
      kind: "resource_server", grant_types: [], redirect_uris: [], response_types: [], resources: ["https://warden.test/mcp"], token_endpoint_auth_method: "client_secret_basic",
    });
    expect(resourceServer.client_secret).toBeTruthy();
  });

  it("RFC 6749 §5.2: it cannot get a token of any grant type (unauthorized_client)", async () => {
    const { resourceServer } = await setting();
    for (const grant_type of ["client_credentials", "refresh_token", "authorization_code"]) {
      const res = await postBasic("/token", resourceServer.client_id, resourceServer.client_secret!, { grant_type });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "unauthorized_client" });
    }
  });
});

describe("RFC 7662 §2.1–2.2: a resource server introspects tokens issued to other clients for its resource", () => {
  it("a service account's token is active, with the issuing client, subject and scope", async () => {
    const { resourceServer, exporter } = await setting();
    const { access_token } = await serviceToken(exporter);
    const claims = claimsOf(access_token);
    expect(await introspect(resourceServer, access_token)).toMatchObject({
      active: true, token_type: "Bearer", client_id: exporter.client_id, sub: exporter.service_account_id, sid: claims.sid,
      scope: "account:read audit:read", aud: "https://warden.test/mcp", iss: "https://warden.test",
    });
  });

  it("a person's token (a public client's) is active for it too", async () => {
    const { resourceServer, operator } = await setting();
    expect(await introspect(resourceServer, operator.accessToken)).toMatchObject({ active: true, client_id: operator.clientId, sub: operator.accountId });
  });

  it("a revoked session's token is inactive at once, though the JWT has not expired", async () => {
    const { resourceServer, operator } = await setting();
    const sessionId = claimsOf(operator.accessToken).sid as string;
    await accountStub(operator.accountId).revokeSession(sessionId, meta());
    expect(await introspect(resourceServer, operator.accessToken)).toEqual({ active: false });
  });

  it("refresh tokens are never shown to a resource server", async () => {
    const { resourceServer, operator } = await setting();
    expect(await introspect(resourceServer, operator.refreshToken)).toEqual({ active: false });
  });

  it("garbage and unknown tokens are simply inactive", async () => {
    const { resourceServer } = await setting();
    for (const token of ["garbage", "a.b.c", `${crypto.randomUUID()}.xyz`]) expect(await introspect(resourceServer, token)).toEqual({ active: false });
  });
});

describe("RFC 7662 §4: an ordinary confidential client still sees only its own tokens", () => {
  it("the service client sees its own token but not a person's", async () => {
    const { exporter, operator } = await setting();
    const { access_token } = await serviceToken(exporter);
    expect(await introspect(exporter, access_token)).toMatchObject({ active: true, client_id: exporter.client_id });
    expect(await introspect(exporter, operator.accessToken)).toEqual({ active: false });
  });
});

describe("a disabled resource server", () => {
  it("can no longer authenticate: 401 invalid_client", async () => {
    const { resourceServer, operator, exporter } = await setting();
    await callTool(operator.accessToken, "disable_client", { client_id: resourceServer.client_id });
    const { access_token } = await serviceToken(exporter);
    const res = await postBasic("/introspect", resourceServer.client_id, resourceServer.client_secret!, { token: access_token });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: "invalid_client" });
  });
});
