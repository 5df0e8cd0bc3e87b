// Self-service: a user sees and ends their own sessions and withdraws the consents they
// gave. Listing needs `account:read`; ending or withdrawing needs `account:manage`. Every
// call is gated and recorded like any tool (ToolInvoked), and the revocation itself is an
// event (SessionRevoked, ConsentRevoked) that takes effect at the very next MCP request.

import type { McpServer } from "@modelcontextprotocol/server";
import { Schema } from "effect";
import type { Env } from "../env.ts";
import { requestMeta } from "../http/responses.ts";
import type { Executed } from "../objects/account-object.ts";
import { accountStub } from "../services/accounts.ts";
import { MAX_CLIENT_ID_URL_LENGTH } from "../oauth/cimd-url.ts";
import { findClient } from "../oauth/register.ts";
import { defineGate } from "./gates.ts";
import { standard, text, withPermission } from "./tools.ts";

const SessionInput = Schema.Struct({ session_id: Schema.String.pipe(Schema.check(Schema.isMaxLength(64))) });
// A Client ID Metadata Document URL is a client id too (src/oauth/cimd-url.ts), hence the longer bound.
const ClientInput = Schema.Struct({ client_id: Schema.String.pipe(Schema.check(Schema.isMaxLength(MAX_CLIENT_ID_URL_LENGTH))) });

const outcome = (result: Executed, done: string) =>
  result.ok
    ? text({ done, events: result.events.map((e) => ({ seq: e.seq, type: e.type })) })
    : { content: [{ type: "text" as const, text: result.message }], isError: true };

const clientName = async (env: Env, clientId: string) => (await findClient(env, clientId))?.client_name ?? "unknown client";

// Listing needs `account:read`; ending or withdrawing needs `account:manage`.
const LIST_SESSIONS = defineGate({ tool: "list_sessions", permission: "account.read_self", scope: "account:read" });
const REVOKE_SESSION = defineGate({ tool: "revoke_session", permission: "sessions.manage_self", scope: "account:manage" });
const LIST_CONSENTS = defineGate({ tool: "list_consents", permission: "account.read_self", scope: "account:read" });
const REVOKE_CONSENT = defineGate({ tool: "revoke_consent", permission: "sessions.manage_self", scope: "account:manage" });

export function registerSessionTools(server: McpServer, env: Env, request: Request): void {

  server.registerTool(
    "list_sessions",
    { title: "My sessions", description: "Your live sessions: which client, which scopes, when each expires. `current` marks this one.", annotations: { readOnlyHint: true, openWorldHint: false } },
    () =>
      withPermission(env, request, LIST_SESSIONS, async (_account, props) => {
        const sessions = await accountStub(env, props.accountId).listSessions(Date.now());
        const named = await Promise.all(
          sessions.map(async (s) => ({ ...s, clientName: await clientName(env, s.clientId), expiresAt: new Date(s.expiresAt).toISOString(), current: s.sessionId === props.sessionId })),
        );
        return text({ sessions: named });
      }),
  );

  server.registerTool(
    "revoke_session",
    { title: "End a session", description: "Ends one of your sessions: its tokens stop working at their next use.", inputSchema: standard(SessionInput), annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false } },
    ({ session_id }) =>
      withPermission(env, request, REVOKE_SESSION, async (_account, props) =>
        outcome(await accountStub(env, props.accountId).revokeSession(session_id, requestMeta(request)), `session ${session_id} ended`),
      ),
  );

  server.registerTool(
    "list_consents",
    { title: "My consents", description: "The clients you allowed to access your account, with the scopes you gave each.", annotations: { readOnlyHint: true, openWorldHint: false } },
    () =>
      withPermission(env, request, LIST_CONSENTS, async (_account, props) => {
        const consents = await accountStub(env, props.accountId).listConsents();
        return text({ consents: await Promise.all(consents.map(async (c) => ({ ...c, clientName: await clientName(env, c.clientId) }))) });
      }),
  );

  server.registerTool(
    "revoke_consent",
    { title: "Withdraw a consent", description: "Withdraws a client's access: its sessions end and it must ask you again.", inputSchema: standard(ClientInput), annotations: { destructiveHint: true, idempotentHint: true, openWorldHint: false } },
    ({ client_id }) =>
      withPermission(env, request, REVOKE_CONSENT, async (_account, props) =>
        outcome(await accountStub(env, props.accountId).revokeConsent(client_id, requestMeta(request)), `consent for ${client_id} withdrawn`),
      ),
  );
}
