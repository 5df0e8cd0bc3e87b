// Operator tools for OAuth clients: register_client (pre-registered code clients, service
// accounts for client_credentials, resource servers for introspection) and disable_client.
// Gated like every tool (permission `clients.manage`, admins and owners; scope
// `clients:manage`) and recorded as ToolInvoked; the work is in src/oauth/operator-clients.ts.

import type { McpServer } from "@modelcontextprotocol/server";
import { Schema } from "effect";
import { Role } from "../../domain/roles.ts";
import type { Env } from "../env.ts";
import { TOKEN_ENDPOINT_AUTH_METHODS } from "../objects/client-registry-object.ts";
import { ClientRefused, disableClient, registerOperatorClient } from "../oauth/operator-clients.ts";
import { defineGate } from "./gates.ts";
import { standard, text, withPermission } from "./tools.ts";

/** Names appear on consent pages and in the audit trail: no control or bidi-format characters. */
const Name = Schema.String.pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(100), Schema.isPattern(/^[^\p{Cc}\p{Cf}]*$/u)));

const RegisterClientInput = Schema.Struct({
  client_name: Name,
  grant_types: Schema.optional(Schema.Array(Schema.Literals(["authorization_code", "refresh_token", "client_credentials"])).pipe(Schema.check(Schema.isMaxLength(3)))),
  redirect_uris: Schema.optional(Schema.Array(Schema.String.pipe(Schema.check(Schema.isMaxLength(2048)))).pipe(Schema.check(Schema.isMaxLength(10)))),
  token_endpoint_auth_method: Schema.optional(Schema.Literals(TOKEN_ENDPOINT_AUTH_METHODS)),
  scope: Schema.optional(Schema.String.pipe(Schema.check(Schema.isMaxLength(512)))),
  resources: Schema.optional(Schema.Array(Schema.String.pipe(Schema.check(Schema.isMaxLength(2048)))).pipe(Schema.check(Schema.isMaxLength(10)))),
  service_account: Schema.optional(Schema.Struct({ name: Name, roles: Schema.Array(Role).pipe(Schema.check(Schema.isMaxLength(5))) })),
});

const DisableClientInput = Schema.Struct({ client_id: Schema.String.pipe(Schema.check(Schema.isMaxLength(64))) });

const refused = (error: unknown) => {
  if (error instanceof ClientRefused) return { content: [{ type: "text" as const, text: error.message }], isError: true };
  throw error;
};

// Declared in the gate registry (src/mcp/gates.ts) so /mcp can answer a missing scope with 403.
const REGISTER_CLIENT = defineGate({ tool: "register_client", permission: "clients.manage", scope: "clients:manage" });
const DISABLE_CLIENT = defineGate({ tool: "disable_client", permission: "clients.manage", scope: "clients:manage" });

export function registerClientTools(server: McpServer, env: Env, request: Request): void {
  server.registerTool(
    "register_client",
    {
      title: "Register an OAuth client",
      description:
        "Pre-register a client. grant_types decide the kind: authorization_code (+refresh_token) with redirect_uris; " +
        "[\"client_credentials\"] with service_account {name, roles} creates a service account (roles up to your own highest but never owner, " +
        "and never the scope clients:manage: managing clients is a person's act); " +
        "[] creates a resource server that may introspect tokens for this server's /mcp resource. " +
        "A confidential client's client_secret is shown once, in this result.",
      inputSchema: standard(RegisterClientInput),
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    (input) =>
      withPermission(env, request, REGISTER_CLIENT, (operator) =>
        registerOperatorClient(env, request, operator, input).then(text, refused),
      ),
  );

  server.registerTool(
    "disable_client",
    {
      title: "Disable an OAuth client",
      description: "Disable a client for good: it can no longer authenticate or get tokens; a service client's account is closed, ending its sessions at once.",
      inputSchema: standard(DisableClientInput),
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ client_id }) =>
      withPermission(env, request, DISABLE_CLIENT, (operator) => disableClient(env, request, operator, client_id).then(text, refused)),
  );
}
