// The protected resource at /mcp (RFC 6750 + RFC 9728 + MCP authorization spec).
// 1. A bearer JWT is verified with everything pinned (src/keys.ts).
// 2. The account object says whether the session is still live: revocation takes effect
//    on the very next request, not when the JWT expires.
// 3. A tools/call the token's scopes do not cover (but the role would allow) is answered
//    403 insufficient_scope before the SDK runs (src/mcp/scope-challenge.ts).
// 4. The MCP SDK handles the request with the caller in its auth context.

import { createMcpHandler } from "agents/mcp/server";
import type { Env } from "../env.ts";
import { issuerOf, resourceOf } from "../http/responses.ts";
import { verifyAccessToken } from "../keys.ts";
import { resourceMetadataUrl } from "../oauth/metadata.ts";
import { accountStub } from "../services/accounts.ts";
import { scopeChallenge, type ScopeChallenge } from "./scope-challenge.ts";
import { buildServer, decideToolCall, type CallerProps } from "./tools.ts";

/** RFC 6750 §3 challenge; RFC 9728 §5.1 adds resource_metadata so clients can discover. */
function unauthorized(request: Request, error?: { code: string; description: string }) {
  const params = [`resource_metadata="${resourceMetadataUrl(request)}"`, `scope="account:read"`];
  if (error) params.push(`error="${error.code}"`, `error_description="${error.description}"`);
  return challengeResponse(401, params, error?.code ?? "unauthorized", error?.description ?? "a bearer token is required");
}

/**
 * RFC 6750 §3.1 `insufficient_scope`: 403, with `scope` listing every scope the request needs
 * (granted plus missing, src/mcp/scope-challenge.ts) and where to learn how to get them.
 */
function insufficientScope(request: Request, challenge: ScopeChallenge) {
  const missing = [...new Set(challenge.gates.map((g) => g.scope))];
  const description = `${challenge.gates.map((g) => g.tool).join(", ")} needs ${missing.join(" ")}`;
  const params = [
    `error="insufficient_scope"`,
    `scope="${challenge.scopes.join(" ")}"`,
    `resource_metadata="${resourceMetadataUrl(request)}"`,
    `error_description="${description}"`,
  ];
  return challengeResponse(403, params, "insufficient_scope", description);
}

function challengeResponse(status: 401 | 403, params: ReadonlyArray<string>, error: string, description: string) {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: {
      "Content-Type": "application/json",
      "WWW-Authenticate": `Bearer ${params.join(", ")}`,
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Expose-Headers": "WWW-Authenticate",
      "Cache-Control": "no-store",
    },
  });
}

/**
 * MCP transport security: a browser Origin that is neither this server nor a local client is
 * refused before anything else (DNS-rebinding and cross-site request protection). Requests
 * without an Origin (non-browser clients) pass.
 */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
function untrustedOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  if (origin === null) return false;
  try {
    const url = new URL(origin);
    return url.origin !== new URL(request.url).origin && !LOCAL_HOSTS.has(url.hostname);
  } catch {
    return true;
  }
}

export async function mcp(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  if (untrustedOrigin(request)) {
    return new Response(JSON.stringify({ error: "forbidden", error_description: "untrusted Origin" }), {
      status: 403,
      headers: { "Content-Type": "application/json", "Cache-Control": "no-store" },
    });
  }
  if (request.method === "OPTIONS") return createMcpHandler(() => buildServer(env, request))(request, env, ctx);
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i.exec(header);
  if (!header) return unauthorized(request);
  if (!match) return unauthorized(request, { code: "invalid_request", description: "malformed Authorization header" });
  const claims = await verifyAccessToken(env, match[1]!, issuerOf(request), resourceOf(request));
  if (!claims) return unauthorized(request, { code: "invalid_token", description: "the access token is invalid or expired" });
  const session = await accountStub(env, claims.sub).session(claims.sid, Date.now());
  if (!session.live) return unauthorized(request, { code: "invalid_token", description: `the session is ${session.reason}` });
  const props: CallerProps = {
    accountId: claims.sub,
    sessionId: claims.sid,
    clientId: claims.client_id,
    scopes: claims.scope.split(" "),
    amr: session.amr,
  };
  const challenge = await scopeChallenge(request, props.scopes, session.account.permissions);
  if (challenge) {
    // Recorded like any refused call (ToolInvoked denied, "missing scope"): the audit trail sees
    // every attempt, whether the SDK or this early challenge answered it.
    for (const gate of challenge.gates) await decideToolCall(env, request, props, gate);
    return insufficientScope(request, challenge);
  }

  const handler = createMcpHandler(() => buildServer(env, request), { route: "/mcp", authContext: { props } });
  return handler(request, env, ctx);
}
