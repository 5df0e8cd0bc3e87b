// CORS for browser-based MCP clients (Fetch standard; MCP authorization spec): discovery,
// registration, token and revocation answer cross-origin requests and expose what a client
// must read; /authorize is a page, not an API, and gets no CORS; /mcp refuses a present but
// untrusted Origin (DNS-rebinding protection) with 403.

import { beforeAll, describe, expect, it } from "vitest";
import { call, WARM_UP_TIMEOUT_MS, warmUp } from "./helpers.ts";

beforeAll(warmUp, WARM_UP_TIMEOUT_MS);

const ORIGIN_HEADER = { origin: "https://app.example" };

describe("CORS where browser-based MCP clients need it", () => {
  it.each(["/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource/mcp", "/.well-known/jwks.json"])(
    "GET %s allows any origin",
    async (path) => {
      const res = await call(path, { headers: ORIGIN_HEADER });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
    },
  );

  it.each(["/register", "/token", "/revoke"])("preflight for POST %s allows the method and Content-Type", async (path) => {
    const res = await call(path, {
      method: "OPTIONS",
      headers: { ...ORIGIN_HEADER, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")?.toLowerCase()).toContain("content-type");
  });

  it("an OAuth error from /token is still readable cross-origin", async () => {
    const res = await call("/token", { method: "POST", headers: { ...ORIGIN_HEADER, "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=password" });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  it("the 401 from /mcp exposes WWW-Authenticate so a browser client can discover the server", async () => {
    const res = await call("/mcp", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("www-authenticate");
  });

  it("/authorize is a page for a person: no CORS headers at all", async () => {
    const res = await call("/authorize?client_id=nobody", { headers: ORIGIN_HEADER });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("/mcp and untrusted Origins", () => {
  it("refuses a present Origin that is not trusted with 403 (before any token check)", async () => {
    const res = await call("/mcp", {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json", accept: "application/json, text/event-stream", authorization: "Bearer x" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} }),
    });
    expect(res.status).toBe(403);
  });

  it.each(["https://warden.test", "http://localhost:6274", "http://127.0.0.1:5173"])("lets a trusted Origin through to the token check: %s", async (origin) => {
    const res = await call("/mcp", { method: "POST", headers: { origin, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(401);
  });

  it("refuses a malformed Origin", async () => {
    const res = await call("/mcp", { method: "POST", headers: { origin: "null", "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(403);
  });
});
