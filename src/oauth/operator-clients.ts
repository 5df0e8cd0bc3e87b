// Clients an operator creates by hand (pre-registered clients), next to Dynamic Client
// Registration (register.ts), which can only create authorization-code clients. Three kinds:
//   operator         an authorization_code (+ refresh_token) client, public or confidential;
//   service          a client_credentials client (RFC 6749 §4.4) bound to its own service
//                    account, whose roles the operator grants (none above their own highest);
//   resource_server  a confidential client with no grant at all, which may introspect the
//                    access tokens of the resources it serves (RFC 7662 §2.1).
// Refusals are plain messages (the MCP tool returns them as tool errors) and store nothing.
// Managing clients is a person's act: a service account never holds `clients.manage` (domain/
// roles.ts PERSON_ONLY), so one leaked machine secret cannot mint clients that outlive it. Each
// change is recorded in the operator's own log (ClientRegistered, ClientDisabled) once stored.

import { redirectUriProblem, parseScopes, SUPPORTED_SCOPES } from "../../domain/oauth.ts";
import type { Role } from "../../domain/roles.ts";
import { randomToken, sha256Hex } from "../crypto.ts";
import type { Env } from "../env.ts";
import { requestMeta, resourceOf } from "../http/responses.ts";
import type { CallerView } from "../objects/account-object.ts";
import { clientKind, type ClientKind, type ClientMetadata, type TokenEndpointAuthMethod } from "../objects/client-registry-object.ts";
import { accountStub } from "../services/accounts.ts";

export interface OperatorClientInput {
  readonly client_name: string;
  readonly grant_types?: ReadonlyArray<"authorization_code" | "refresh_token" | "client_credentials">;
  readonly redirect_uris?: ReadonlyArray<string>;
  readonly token_endpoint_auth_method?: TokenEndpointAuthMethod;
  readonly scope?: string;
  readonly resources?: ReadonlyArray<string>;
  readonly service_account?: { readonly name: string; readonly roles: ReadonlyArray<Role> };
}

export class ClientRefused extends Error {}

const refuse = (message: string): never => {
  throw new ClientRefused(message);
};

/** Defence in depth: the tool gate already denies a service account (InvokeTool, PERSON_ONLY). */
const mustBePerson = (operator: CallerView) => {
  if ("service" in operator) refuse("managing clients is a person's act: a service account may not register or disable clients");
};

/** The kind follows from the grant types: client_credentials alone, none at all, or the code flow. */
function kindOf(grants: ReadonlyArray<string>): ClientKind {
  if (grants.includes("client_credentials")) {
    // One client, one identity: a token's `sub` is either the service account or a person, never both.
    if (grants.length !== 1) refuse("client_credentials cannot be combined with other grant types");
    return "service";
  }
  if (grants.length === 0) return "resource_server";
  if (!grants.includes("authorization_code")) refuse("grant_types must include authorization_code (refresh_token alone issues nothing)");
  return "operator";
}

function checkedRedirects(kind: ClientKind, uris: ReadonlyArray<string>): string[] {
  if (kind !== "operator") {
    if (uris.length > 0) refuse("redirect_uris are only for authorization_code clients");
    return [];
  }
  if (uris.length === 0) refuse("an authorization_code client needs at least one redirect_uri");
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem) refuse(problem);
  }
  return [...uris];
}

function checkedScope(kind: ClientKind, raw: string | undefined): string {
  if (kind === "resource_server") {
    if (raw !== undefined) refuse("a resource server requests no scope");
    return "";
  }
  const parsed = parseScopes(raw);
  if ("invalid" in parsed) return refuse(`unknown scope ${parsed.invalid}`);
  // A service gets only what was asked for (default account:read); code clients default to all, like DCR.
  return (raw === undefined && kind === "operator" ? [...SUPPORTED_SCOPES] : parsed.scopes).join(" ");
}

/**
 * Registers the client (and, for `service`, its account first: a failure after that leaves an
 * account no client can act as, never a client without an account). The secret is returned once.
 */
export async function registerOperatorClient(env: Env, request: Request, operator: CallerView, input: OperatorClientInput) {
  mustBePerson(operator);
  const grants = [...new Set(input.grant_types ?? ["authorization_code", "refresh_token"])];
  const kind = kindOf(grants);
  const redirectUris = checkedRedirects(kind, input.redirect_uris ?? []);
  const scope = checkedScope(kind, input.scope);
  const method = input.token_endpoint_auth_method ?? "client_secret_basic";
  // RFC 6749 §4.4 and RFC 7662 §2.1: only a client that can authenticate may use these.
  if (method === "none" && kind !== "operator") refuse(`a ${kind} client must be confidential (client_secret_basic or client_secret_post)`);
  if ((kind === "service") !== (input.service_account !== undefined)) {
    refuse(kind === "service" ? "a client_credentials client needs service_account { name, roles }" : "service_account is only for client_credentials clients");
  }
  const resources = kind === "resource_server" ? [...(input.resources ?? [resourceOf(request)])] : undefined;
  if (kind !== "resource_server" && input.resources !== undefined) refuse("resources are only for resource servers");
  if (resources?.some((r) => r !== resourceOf(request)) || resources?.length === 0) refuse(`this server protects one resource: ${resourceOf(request)}`);

  const clientId = randomToken(18);
  const serviceAccountId = kind === "service" ? crypto.randomUUID() : undefined;
  if (serviceAccountId !== undefined && input.service_account) {
    const registered = await accountStub(env, serviceAccountId).registerServiceAccount(
      {
        _tag: "RegisterServiceAccount", accountId: serviceAccountId, name: input.service_account.name, clientId,
        scopes: scope.split(" "), roles: input.service_account.roles, grantorRoles: operator.roles,
      },
      { kind: "user", id: operator.accountId },
      requestMeta(request),
    );
    if (!registered.ok) refuse(registered.message);
  }
  const metadata: ClientMetadata = {
    client_id: clientId,
    client_id_issued_at: Math.floor(Date.now() / 1000),
    client_name: input.client_name,
    redirect_uris: redirectUris,
    grant_types: grants,
    response_types: kind === "operator" ? ["code"] : [],
    token_endpoint_auth_method: method,
    scope,
    kind,
    registered_by: operator.accountId,
    ...(serviceAccountId ? { service_account_id: serviceAccountId } : {}),
    ...(resources ? { resources } : {}),
  };
  const secret = method === "none" ? null : randomToken(32);
  const registry = env.CLIENTS.get(env.CLIENTS.idFromName(clientId));
  if (!(await registry.register(metadata, secret === null ? null : sha256Hex(secret)))) refuse("client id collision; try again");
  const recorded = await accountStub(env, operator.accountId).recordClientAdmin(
    {
      _tag: "RecordClientRegistered", clientId, kind, clientName: input.client_name, grantTypes: grants,
      scopes: scope === "" ? [] : scope.split(" "), serviceAccountId: serviceAccountId ?? null,
    },
    requestMeta(request),
  );
  if (!recorded.ok) {
    // No client without its ClientRegistered: one that cannot be recorded is disabled at once.
    await registry.disable(operator.accountId, Date.now());
    refuse(`the registration could not be recorded (${recorded.message}); the client was disabled`);
  }
  return secret === null ? metadata : { ...metadata, client_secret: secret, client_secret_expires_at: 0 };
}

/**
 * Disables a client for good: it no longer authenticates anywhere (invalid_client), and a
 * service client's account is closed, so its live tokens fail at the very next /mcp request.
 * A person's session with a disabled code client lives until its access token expires (at
 * most 10 minutes): refreshing it then fails, since the client is unknown.
 */
export async function disableClient(env: Env, request: Request, operator: CallerView, clientId: string) {
  mustBePerson(operator);
  const registry = env.CLIENTS.get(env.CLIENTS.idFromName(clientId));
  const record = /^[A-Za-z0-9_-]{1,64}$/.test(clientId) ? await registry.record() : null;
  if (!record) return refuse(`unknown client ${clientId}`);
  const at = Date.now();
  await registry.disable(operator.accountId, at);
  const serviceAccountId = record.metadata.service_account_id;
  if (clientKind(record.metadata) === "service" && serviceAccountId) {
    const closed = await accountStub(env, serviceAccountId).close({ reason: "client disabled", actor: { kind: "user", id: operator.accountId } }, requestMeta(request));
    if (!closed.ok && closed.error !== "AccountClosed") refuse(closed.message);
  }
  // Recorded once, by the call that disabled it (disabling again keeps the first record).
  if (record.disabled === null) {
    const kind = clientKind(record.metadata);
    const recorded = await accountStub(env, operator.accountId).recordClientAdmin(
      { _tag: "RecordClientDisabled", clientId, kind, serviceAccountId: serviceAccountId ?? null },
      requestMeta(request),
    );
    if (!recorded.ok) refuse(`the client is disabled, but recording it failed: ${recorded.message}`);
  }
  return {
    client_id: clientId,
    kind: clientKind(record.metadata),
    disabled_at: new Date(record.disabled?.at ?? at).toISOString(),
    ...(serviceAccountId ? { service_account_id: serviceAccountId, service_account_closed: true } : {}),
  };
}
