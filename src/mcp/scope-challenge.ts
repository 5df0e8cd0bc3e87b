// Step-up authorization at /mcp: RFC 6750 §3.1 `insufficient_scope` and the MCP authorization
// spec's scope challenge handling. Before the MCP SDK sees a JSON-RPC `tools/call` (single or
// batch) for a tool whose scope the token lacks, the request is answered 403 with a Bearer
// challenge naming every scope needed: the token's scopes plus the missing ones, so a client
// that replaces its scope set with the challenge's (SDK v1) converges as surely as one that
// adds them up (SDK v2, SEP-2350), and never loses what it had.
//
// The challenge is an early, better answer, not the enforcement: every tool still decides its
// gate in the account object (src/mcp/tools.ts). So a body that cannot be read or parsed here
// is simply passed on (the SDK answers a parse error), and nothing here can turn into a 500.

import { gateOf, type ToolGate } from "./gates.ts";

/** Bodies beyond this are not inspected (the tool's own gate still refuses). */
const MAX_INSPECTED_BYTES = 1024 * 1024;

export interface ScopeChallenge {
  /** Granted scopes first, then the missing ones, each once. */
  readonly scopes: ReadonlyArray<string>;
  /** The tools/call gates that miss a scope the caller's role would allow. */
  readonly gates: ReadonlyArray<ToolGate>;
}

/** The tool names of every `tools/call` request in a JSON-RPC message or batch. */
function calledTools(body: unknown): string[] {
  const messages = Array.isArray(body) ? body : [body];
  return messages.flatMap((m) => {
    if (typeof m !== "object" || m === null) return [];
    const { method, params } = m as { method?: unknown; params?: unknown };
    const name = typeof params === "object" && params !== null ? (params as { name?: unknown }).name : undefined;
    return method === "tools/call" && typeof name === "string" ? [name] : [];
  });
}

async function readJson(request: Request): Promise<unknown> {
  if (request.method !== "POST" || request.body === null) return undefined;
  const declared = Number(request.headers.get("content-length") ?? 0);
  if (declared > MAX_INSPECTED_BYTES) return undefined;
  try {
    // A clone: the SDK reads the original body afterwards.
    const text = await request.clone().text();
    return text.length > MAX_INSPECTED_BYTES ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The challenge for this request, or null. Only scopes the caller's role could use are
 * challenged: asking a member to consent to `audit:read` would only end in a permission
 * refusal, so a role failure stays what it was (a tool error, recorded as denied). Unknown
 * tools are left to the SDK as well.
 */
export async function scopeChallenge(
  request: Request,
  granted: ReadonlyArray<string>,
  permissions: ReadonlyArray<string>,
): Promise<ScopeChallenge | null> {
  const gates = calledTools(await readJson(request))
    .map(gateOf)
    .filter((g): g is ToolGate => g !== undefined && permissions.includes(g.permission) && !granted.includes(g.scope));
  if (gates.length === 0) return null;
  return { scopes: [...new Set([...granted, ...gates.map((g) => g.scope)])], gates };
}
