// The one registry of tool gates: tool name → the role permission and the token scope it needs.
// Tool files declare their gates at module level with defineGate and hand the same object to
// withPermission, so what a tool enforces and what /mcp announces in an insufficient_scope
// challenge (src/mcp/scope-challenge.ts) cannot drift apart. Kept out of tools.ts so tool
// modules can declare gates while tools.ts imports them (no import cycle at load time).

import type { Permission } from "../../domain/roles.ts";

export interface ToolGate {
  readonly tool: string;
  readonly permission: Permission;
  readonly scope: string;
}

const GATES = new Map<string, ToolGate>();

/** Declares a tool's gate; declaring one tool twice with different needs is a programming error. */
export function defineGate<const G extends ToolGate>(gate: G): G {
  const existing = GATES.get(gate.tool);
  if (existing && (existing.permission !== gate.permission || existing.scope !== gate.scope)) {
    throw new Error(`tool ${gate.tool} is declared with two different gates`);
  }
  GATES.set(gate.tool, gate);
  return gate;
}

export const gateOf = (tool: string): ToolGate | undefined => GATES.get(tool);

export const declaredGates = (): ReadonlyArray<ToolGate> => [...GATES.values()];

/**
 * The requested scopes that no declared tool lets these permissions use: what a consent page
 * flags as granted-but-useless (a member asked for `audit:read`), so nobody mistakes a scope for
 * a role. Reads the registry, so it is true for whatever tools this Worker declares.
 */
export const scopesBeyondRoles = (scopes: ReadonlyArray<string>, permissions: ReadonlyArray<string>): ReadonlyArray<string> =>
  scopes.filter((scope) => !declaredGates().some((gate) => gate.scope === scope && permissions.includes(gate.permission)));
