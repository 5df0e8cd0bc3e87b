// The account event catalogue. Past tense, data only: no secrets (no password, hash,
// code or token ever appears here; secrets live in side tables, see ARCHITECTURE.md).
// Each event type carries a schema version; bump it and add an upcaster when a shape changes.

import { Schema } from "effect";
import { Role } from "./roles.ts";

const Scopes = Schema.Array(Schema.String);
/** RFC 8176 authentication method references: how the person proved who they are. */
export const AuthMethod = Schema.Literals(["pwd", "otp"]);
export type AuthMethod = typeof AuthMethod.Type;
/** A second factor: an authenticator app's TOTP code or a single-use recovery code. */
const SecondFactor = Schema.Literals(["totp", "recovery_code"]);
/** Which kind of client an operator registered or disabled (`dynamic`: RFC 7591 self-registration). */
export const ClientKind = Schema.Literals(["dynamic", "operator", "service", "resource_server"]);
export type ClientKind = typeof ClientKind.Type;

export const AccountEvent = Schema.TaggedUnion({
  AccountRegistered: { accountId: Schema.String, email: Schema.String },
  /** A service account (machine client, no email, no password), bound to one client and its scopes. */
  ServiceAccountRegistered: { accountId: Schema.String, name: Schema.String, clientId: Schema.String, scopes: Scopes },
  /** A password was set; the hash itself lives in the credentials side table. */
  PasswordSet: { scheme: Schema.String },
  /** v2 added expiresAt (null = permanent); v1 rows are upcast in domain/upcasters.ts. */
  RoleGranted: { role: Role, reason: Schema.String, expiresAt: Schema.NullOr(Schema.Number) },
  /** A time-bound role reached its expiry (recorded by the account's alarm). */
  RoleExpired: { role: Role },
  LoginSucceeded: { clientId: Schema.NullOr(Schema.String) },
  /** `account_locked`: refused during a lockout without checking anything; the count does not grow. */
  // `invalid_second_factor` (a wrong TOTP or recovery code) counts toward the same lockout; adding it is backward compatible.
  LoginFailed: { reason: Schema.Literals(["invalid_password", "account_locked", "invalid_second_factor"]), failedAttempts: Schema.Number },
  /** The password was right for an account with a second factor: sign-in now waits for it (the failure count stands). */
  PasswordVerified: { clientId: Schema.NullOr(Schema.String) },
  /** The second factor was verified at sign-in; LoginSucceeded follows. */
  MfaVerified: { method: SecondFactor, clientId: Schema.NullOr(Schema.String) },
  /** TOTP enrollment confirmed by a first correct code; the seed and recovery codes live in side tables. */
  MfaEnabled: { method: Schema.Literals(["totp"]), recoveryCodes: Schema.Number },
  /** Turned off with a fresh second factor; the seed and every recovery code are deleted. */
  MfaDisabled: { verifiedWith: SecondFactor },
  /** One recovery code was spent (which one is never recorded, nor the code). */
  RecoveryCodeUsed: { remaining: Schema.Number },
  /** A new set replaced every earlier recovery code (shown once, stored hashed). */
  RecoveryCodesRegenerated: { count: Schema.Number },
  /** The password was replaced (the hash lives in the credentials side table); other sessions are revoked with it. */
  PasswordChanged: { scheme: Schema.String, at: Schema.Number },
  /** Progressive lockout after repeated failures (domain/lockout.ts). */
  AccountLocked: { until: Schema.Number, failedAttempts: Schema.Number },
  /** `expired`: the lockout ran out (recorded by the alarm or the next sign-in); `operator`: lifted by hand. */
  AccountUnlocked: { reason: Schema.Literals(["expired", "operator"]) },
  ConsentGranted: {
    clientId: Schema.String,
    clientName: Schema.String,
    redirectHost: Schema.String,
    scopes: Scopes,
  },
  ConsentDenied: { clientId: Schema.String, scopes: Scopes },
  /** The user withdrew a client's consent; its sessions are revoked with it. */
  ConsentRevoked: { clientId: Schema.String },
  SessionStarted: {
    sessionId: Schema.String,
    clientId: Schema.String,
    scopes: Scopes,
    resource: Schema.String,
    expiresAt: Schema.Number,
    /** v2: how the person signed in (RFC 8176); v1 rows are upcast as ["pwd"]. */
    amr: Schema.Array(AuthMethod),
  },
  /**
   * A session reached its expiry (recorded by the account's alarm), revoked or not (a revoked
   * one since state v4); it then leaves the account's state. Logs from before v4 have none for
   * revoked sessions: the first alarm after upgrade records them.
   */
  SessionExpired: { sessionId: Schema.String },
  TokenRefreshed: { sessionId: Schema.String, generation: Schema.Number, expiresAt: Schema.Number },
  SessionRevoked: {
    sessionId: Schema.String,
    // Adding a literal is backward compatible (every stored value still decodes): no version bump.
    reason: Schema.Literals(["refresh_token_reused", "user_request", "authorization_code_reused", "consent_revoked", "client_revocation", "password_changed", "mfa_enabled"]),
  },
  /** The account is closed: every session ends, nothing more is decided, pending expiries are cancelled. */
  AccountClosed: { reason: Schema.String },
  /**
   * An operator registered an OAuth client (recorded in the operator's own log, after the client
   * registry stored it). Never the secret: only its shape, for the audit trail.
   */
  ClientRegistered: {
    clientId: Schema.String,
    kind: ClientKind,
    clientName: Schema.String,
    grantTypes: Schema.Array(Schema.String),
    scopes: Scopes,
    /** The service account bound to a client_credentials client, else null. */
    serviceAccountId: Schema.NullOr(Schema.String),
  },
  /** An operator disabled a client for good (a service client's account is closed with it). */
  ClientDisabled: { clientId: Schema.String, kind: ClientKind, serviceAccountId: Schema.NullOr(Schema.String) },
  ToolInvoked: {
    tool: Schema.String,
    sessionId: Schema.String,
    permission: Schema.String,
    outcome: Schema.Literals(["allowed", "denied"]),
    reason: Schema.NullOr(Schema.String),
  },
});
export type AccountEvent = typeof AccountEvent.Type;
export type AccountEventType = AccountEvent["_tag"];

/** Current schema version of each event type (stored beside every event). */
export const EVENT_VERSIONS: Record<AccountEventType, number> = {
  AccountRegistered: 1,
  ServiceAccountRegistered: 1,
  PasswordSet: 1,
  RoleGranted: 2,
  RoleExpired: 1,
  LoginSucceeded: 1,
  LoginFailed: 1,
  PasswordVerified: 1,
  MfaVerified: 1,
  MfaEnabled: 1,
  MfaDisabled: 1,
  RecoveryCodeUsed: 1,
  RecoveryCodesRegenerated: 1,
  PasswordChanged: 1,
  AccountLocked: 1,
  AccountUnlocked: 1,
  ConsentGranted: 1,
  ConsentDenied: 1,
  ConsentRevoked: 1,
  SessionStarted: 2,
  TokenRefreshed: 1,
  SessionRevoked: 1,
  SessionExpired: 1,
  AccountClosed: 1,
  ClientRegistered: 1,
  ClientDisabled: 1,
  ToolInvoked: 1,
};

export const decodeEvent = Schema.decodeUnknownSync(AccountEvent);

/** Who caused an event. The system acts for configuration (ADMIN_EMAILS) and expiries. */
export const Actor = Schema.Struct({
  kind: Schema.Literals(["user", "system", "client"]),
  id: Schema.String,
});
export type Actor = typeof Actor.Type;
export const SYSTEM: Actor = { kind: "system", id: "warden" };

/** Metadata stored beside each event; never used by decide/evolve. */
export interface EventMetadata {
  readonly actor: Actor;
  readonly requestId: string;
  readonly at: number;
  readonly clientIp: string | null;
  readonly userAgent: string | null;
}

/** An event as stored and read back: position, identity, chain and metadata. */
export interface StoredEvent {
  readonly seq: number;
  readonly eventId: string;
  readonly type: AccountEventType;
  readonly version: number;
  readonly data: AccountEvent;
  readonly metadata: EventMetadata;
  readonly prevHash: string;
  readonly hash: string;
}
