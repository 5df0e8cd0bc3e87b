// MCP tools. Each declares the permission (from its role) and the scope (from its token)
// it needs; every call is decided and recorded by the caller's AccountObject as
// ToolInvoked (allowed or denied) before the tool does anything.

import { McpServer, type CallToolResult } from "@modelcontextprotocol/server";
import { getMcpAuthContext } from "agents/mcp/server";
import { Schema } from "effect";
import type { Env } from "../env.ts";
import { requestMeta } from "../http/responses.ts";
import type { CallerView } from "../objects/account-object.ts";
import { accountStub } from "../services/accounts.ts";
import { defineGate, type ToolGate } from "./gates.ts";
import { registerOperatorTools } from "./operator-tools.ts";
import { registerSessionTools } from "./session-tools.ts";

/** Identity the MCP route verified and hands to tools through the auth context. */
export interface CallerProps extends Record<string, unknown> {
  readonly accountId: string;
  readonly sessionId: string;
  readonly clientId: string;
  readonly scopes: ReadonlyArray<string>;
  /** How the person signed in to this session (RFC 8176), from the account object. */
  readonly amr?: ReadonlyArray<string>;
}

export const standard = <S extends Schema.Top & Schema.ConstraintDecoder<unknown>>(schema: S) =>
  Schema.toStandardJSONSchemaV1(Schema.toStandardSchemaV1(schema));

const MyEventsInput = Schema.Struct({
  limit: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100 })))),
  before: Schema.optional(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))),
});

export const text = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: JSON.stringify(value, null, 2) }],
  structuredContent: value as Record<string, unknown>,
});
const refusal = (message: string): CallToolResult => ({ content: [{ type: "text", text: message }], isError: true });

function caller(): CallerProps {
  const props = getMcpAuthContext()?.props as CallerProps | undefined;
  if (!props) throw new Error("MCP tool called without a verified caller");
  return props;
}

export type { ToolGate };

const WHOAMI = defineGate({ tool: "whoami", permission: "account.read_self", scope: "account:read" });
const MY_EVENTS = defineGate({ tool: "my_events", permission: "events.read_self", scope: "account:read" });

/**
 * One tool call decided and recorded (ToolInvoked) by the caller's account object: the role's
 * permission, and the scope on both the session and the presented token. Also how /mcp records
 * a call it answered with an insufficient_scope challenge before the SDK ran.
 */
export function decideToolCall(env: Env, request: Request, caller: Pick<CallerProps, "accountId" | "sessionId" | "scopes">, gate: ToolGate) {
  const meta = requestMeta(request);
  return accountStub(env, caller.accountId).invokeTool(
    { _tag: "InvokeTool", tool: gate.tool, sessionId: caller.sessionId, permission: gate.permission, requiredScope: gate.scope, tokenScopes: caller.scopes, at: meta.at },
    meta,
  );
}

/** The permission check: decided and recorded in the account object, then the work. */
export async function withPermission(
  env: Env,
  request: Request,
  gate: ToolGate,
  work: (account: CallerView, props: CallerProps) => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const props = caller();
  const decision = await decideToolCall(env, request, props, gate);
  if (!decision.allowed) return refusal(`Permission denied: ${decision.reason}.`);
  return work(decision.account, props);
}

export function buildServer(env: Env, request: Request): McpServer {
  const server = new McpServer({ name: "warden", version: "0.1.0" });

  server.registerTool(
    "whoami",
    {
      title: "Who am I",
      description: "Your account id, email, roles, this session's id and the scopes granted to this client.",
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      withPermission(env, request, WHOAMI, async (account, props) =>
        text({
          accountId: account.accountId,
          email: account.email,
          roles: account.roles,
          permissions: account.permissions,
          sessionId: props.sessionId,
          clientId: props.clientId,
          scopes: props.scopes,
          amr: props.amr ?? [],
        }),
      ),
  );

  server.registerTool(
    "my_events",
    {
      title: "My account history",
      description: "Your own account events, newest first. Page with `before` (the `next` value of the previous page).",
      inputSchema: standard(MyEventsInput),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    ({ limit, before }) =>
      withPermission(env, request, MY_EVENTS, async (_account, props) => {
        const size = limit ?? 20;
        const events = await accountStub(env, props.accountId).events(before ?? null, size);
        const last = events.at(-1);
        return text({
          events: events.map((e) => ({ seq: e.seq, type: e.type, version: e.version, at: new Date(e.metadata.at).toISOString(), actor: e.metadata.actor, data: e.data, hash: e.hash })),
          next: events.length === size && last && last.seq > 1 ? last.seq : null,
        });
      }),
  );

  registerSessionTools(server, env, request);
  registerOperatorTools(server, env, request);
  return server;
}
