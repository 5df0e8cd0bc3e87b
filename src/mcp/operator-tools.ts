// Operator and auditor tools over the global read models. Each is gated like every tool:
// role permission + token scope, decided and recorded (ToolInvoked) by the caller's account.

import type { McpServer } from "@modelcontextprotocol/server";
import { Schema } from "effect";
import type { Env } from "../env.ts";
import { InvalidQuery, listAccounts, parseTime, projectionHealth, queryAudit } from "../services/projections.ts";
import { registerClientTools } from "./client-tools.ts";
import { defineGate } from "./gates.ts";
import { standard, text, withPermission } from "./tools.ts";

// Gates live in the registry (src/mcp/gates.ts) so /mcp can challenge a missing scope with 403.
const LIST_ACCOUNTS = defineGate({ tool: "list_accounts", permission: "accounts.read", scope: "accounts:read" });
const QUERY_AUDIT = defineGate({ tool: "query_audit", permission: "audit.read", scope: "audit:read" });
const PROJECTION_HEALTH = defineGate({ tool: "projection_health", permission: "accounts.read", scope: "accounts:read" });

const Limit = Schema.optional(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 100 }))));
const Time = Schema.optional(Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/))));

const ListAccountsInput = Schema.Struct({
  kind: Schema.optional(Schema.Literals(["people", "services"])),
  status: Schema.optional(Schema.Literals(["active", "closed"])),
  email_prefix: Schema.optional(Schema.String.pipe(Schema.check(Schema.isMaxLength(254)))),
  limit: Limit,
  cursor: Schema.optional(Schema.String),
});

const QueryAuditInput = Schema.Struct({
  account_id: Schema.optional(Schema.String),
  actor_id: Schema.optional(Schema.String),
  type: Schema.optional(Schema.String),
  outcome: Schema.optional(Schema.Literals(["success", "failure", "allowed", "denied"])),
  from: Time,
  to: Time,
  limit: Limit,
  cursor: Schema.optional(Schema.String),
});

const refusal = (message: string) => ({ content: [{ type: "text" as const, text: message }], isError: true });

/** A bad cursor or time is the caller's mistake, reported as a tool error, not a server fault. */
const guarded = async <T>(work: () => Promise<T>, ok: (value: T) => ReturnType<typeof text>) => {
  try {
    return ok(await work());
  } catch (error) {
    if (error instanceof InvalidQuery) return refusal(error.message);
    throw error;
  }
};

export function registerOperatorTools(server: McpServer, env: Env, request: Request): void {
  registerClientTools(server, env, request);
  server.registerTool(
    "list_accounts",
    {
      title: "List accounts",
      description: "Operator directory: people by email (kind \"people\", the default) or service accounts with their name and client (kind \"services\"), each with status, roles, live session ids (liveSessions), last login and lockout state (times in ms since the epoch).",
      inputSchema: standard(ListAccountsInput),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (input) =>
      withPermission(env, request, LIST_ACCOUNTS, () =>
        guarded(
          () => listAccounts(env, { kind: input.kind, status: input.status, emailPrefix: input.email_prefix?.toLowerCase(), limit: input.limit ?? 50, cursor: input.cursor }),
          text,
        ),
      ),
  );

  server.registerTool(
    "query_audit",
    {
      title: "Query the audit trail",
      description: "Every event of every account, newest first, filtered by account, actor, type, outcome and time range (ISO 8601, `to` exclusive).",
      inputSchema: standard(QueryAuditInput),
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (input) =>
      withPermission(env, request, QUERY_AUDIT, () =>
        guarded(
          () =>
            queryAudit(env, {
              accountId: input.account_id,
              actorId: input.actor_id,
              type: input.type,
              outcome: input.outcome,
              from: parseTime(input.from),
              to: parseTime(input.to),
              limit: input.limit ?? 50,
              cursor: input.cursor,
            }),
          text,
        ),
      ),
  );

  server.registerTool(
    "projection_health",
    {
      title: "Projection health",
      description: "Lag of every read-model shard: events behind and when the oldest undelivered event was recorded.",
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    () =>
      withPermission(env, request, PROJECTION_HEALTH, () =>
        guarded(() => projectionHealth(env).then((shards) => ({ shards })), text),
      ),
  );
}
