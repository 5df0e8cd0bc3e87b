// Shared events and commands for the decider specs: one account (ada), one client (claude),
// one session (s-1) on a clock measured in plain numbers (the decider never reads a real clock).

import type { AccountCommand } from "../../domain/commands.ts";
import type { AccountEvent } from "../../domain/events.ts";
import type { Role } from "../../domain/roles.ts";

export const ACCOUNT = "acc-ada";
export const EMAIL = "ada@example.com";
export const CLIENT = "client-claude";
export const OTHER_CLIENT = "client-other";
export const SESSION = "s-1";
export const RESOURCE = "https://mcp.example.com/mcp";
/** Time of every command unless a spec says otherwise; sessions expire at EXPIRES. */
export const NOW = 1_000;
export const EXPIRES = 2_000;
export const SCOPES = ["tools:read", "tools:write"] as const;

export const registered: ReadonlyArray<AccountEvent> = [
  { _tag: "AccountRegistered", accountId: ACCOUNT, email: EMAIL },
  { _tag: "PasswordSet", scheme: "scrypt" },
  { _tag: "RoleGranted", role: "member", reason: "every account is a member", expiresAt: null },
];

export const consented = (scopes: ReadonlyArray<string> = SCOPES, clientId = CLIENT): AccountEvent => ({
  _tag: "ConsentGranted",
  clientId,
  clientName: "Claude",
  redirectHost: "claude.ai",
  scopes: [...scopes],
});

export const sessionStarted = (scopes: ReadonlyArray<string> = SCOPES, sessionId = SESSION): AccountEvent => ({
  _tag: "SessionStarted",
  sessionId,
  clientId: CLIENT,
  scopes: [...scopes],
  resource: RESOURCE,
  expiresAt: EXPIRES,
  amr: ["pwd"],
});

/** A registered member with consent for CLIENT and a live session SESSION. */
export const withLiveSession: ReadonlyArray<AccountEvent> = [...registered, consented(), sessionStarted()];

/** The command variant with this tag. */
export type Command<Tag extends AccountCommand["_tag"]> = Extract<AccountCommand, { _tag: Tag }>;

export const register: Command<"RegisterAccount"> = { _tag: "RegisterAccount", accountId: ACCOUNT, email: EMAIL };

export const grantConsent = (scopes: ReadonlyArray<string> = SCOPES, clientId = CLIENT): AccountCommand => ({
  _tag: "GrantConsent",
  clientId,
  clientName: "Claude",
  redirectHost: "claude.ai",
  scopes,
});

export const startSession = (scopes: ReadonlyArray<string> = SCOPES, clientId = CLIENT): AccountCommand => ({
  _tag: "StartSession",
  sessionId: SESSION,
  clientId,
  scopes,
  resource: RESOURCE,
  expiresAt: EXPIRES,
  at: NOW,
  amr: ["pwd"],
});

export const refresh = (generation: number, at = NOW, sessionId = SESSION): AccountCommand => ({
  _tag: "RefreshSession",
  sessionId,
  generation,
  expiresAt: at + 1_000,
  at,
});

export const invoke = (
  permission: Command<"InvokeTool">["permission"],
  requiredScope = "tools:read",
  at = NOW,
  sessionId = SESSION,
): AccountCommand => ({ _tag: "InvokeTool", tool: "whoami", sessionId, permission, requiredScope, at });

export const expireDue = (at = NOW): Command<"ExpireDue"> => ({ _tag: "ExpireDue", at });

export const closeAccount: Command<"CloseAccount"> = { _tag: "CloseAccount", reason: "user_request" };
export const accountClosed: AccountEvent = { _tag: "AccountClosed", reason: "user_request" };

export const grantRole = (role: Role, expiresAt: number | null = null): Command<"GrantRole"> => ({
  _tag: "GrantRole", role, reason: "test", expiresAt,
});
export const roleGranted = (role: Role, expiresAt: number | null = null): AccountEvent => ({
  _tag: "RoleGranted", role, reason: "test", expiresAt,
});

/** One command of every kind, for specs that must hold for all of them. */
export const oneOfEach: ReadonlyArray<AccountCommand> = [
  register,
  { _tag: "RegisterServiceAccount", accountId: ACCOUNT, name: "exporter", clientId: CLIENT, scopes: SCOPES, roles: ["auditor"], grantorRoles: ["admin"] },
  { _tag: "GrantRole", role: "admin", reason: "ADMIN_EMAILS", expiresAt: null },
  { _tag: "RecordLogin", passwordMatches: true, clientId: CLIENT, at: NOW },
  { _tag: "UnlockAccount", reason: "operator" },
  grantConsent(),
  { _tag: "DenyConsent", clientId: CLIENT, scopes: SCOPES },
  { _tag: "RevokeConsent", clientId: CLIENT },
  startSession(),
  refresh(0),
  { _tag: "RevokeSession", sessionId: SESSION, reason: "user_request" },
  invoke("account.read_self"),
  expireDue(),
  closeAccount,
  { _tag: "EnableMfa", recoveryCodes: 10, at: NOW },
  { _tag: "VerifySecondFactor", proof: { method: "totp", verified: true }, clientId: CLIENT, at: NOW },
  { _tag: "DisableMfa", proof: { method: "totp", verified: true }, at: NOW },
  { _tag: "RegenerateRecoveryCodes", proof: { method: "totp", verified: true }, count: 10, at: NOW },
  { _tag: "ChangePassword", currentPasswordMatches: true, keepSessionId: null, at: NOW },
  { _tag: "RecordClientRegistered", clientId: OTHER_CLIENT, kind: "operator", clientName: "Portal", grantTypes: ["authorization_code"], scopes: SCOPES, serviceAccountId: null },
  { _tag: "RecordClientDisabled", clientId: OTHER_CLIENT, kind: "operator", serviceAccountId: null },
];
