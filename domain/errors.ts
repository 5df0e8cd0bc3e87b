// Typed refusals of the account decider. Each maps to exactly one protocol error in
// src/errors (OAuth JSON, HTTP page, MCP tool result).

import { Schema } from "effect";

export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()("AccountNotFound", {}) {}

export class AccountAlreadyRegistered extends Schema.TaggedError<AccountAlreadyRegistered>()(
  "AccountAlreadyRegistered",
  { email: Schema.String },
) {}


export class ConsentMissing extends Schema.TaggedError<ConsentMissing>()("ConsentMissing", {
  clientId: Schema.String,
}) {}

export class SessionNotLive extends Schema.TaggedError<SessionNotLive>()("SessionNotLive", {
  sessionId: Schema.String,
  reason: Schema.Literals(["unknown", "revoked", "expired"]),
}) {}

export class SessionAlreadyStarted extends Schema.TaggedError<SessionAlreadyStarted>()(
  "SessionAlreadyStarted",
  { sessionId: Schema.String },
) {}

export class StaleRefresh extends Schema.TaggedError<StaleRefresh>()("StaleRefresh", {
  sessionId: Schema.String,
  expected: Schema.Number,
  presented: Schema.Number,
}) {}

export class AccountClosed extends Schema.TaggedError<AccountClosed>()("AccountClosed", {}) {}

/** A service account may not be given a role above the highest role of the operator creating it. */
export class RoleAboveGrantor extends Schema.TaggedError<RoleAboveGrantor>()("RoleAboveGrantor", { role: Schema.String }) {}

/**
 * What a service account may never hold or do (`what`, e.g. "hold role owner"): a role above
 * SERVICE_ROLE_CEILING, a scope whose tools are a person's act (clients:manage), or managing
 * clients (domain/roles.ts PERSON_ONLY).
 */
export class NotForServiceAccount extends Schema.TaggedError<NotForServiceAccount>()("NotForServiceAccount", { what: Schema.String }) {}

/** A second-factor command on an account without MFA. */
export class MfaNotEnabled extends Schema.TaggedError<MfaNotEnabled>()("MfaNotEnabled", {}) {}

/** Enrollment on an account that already has a second factor (disable it first). */
export class MfaAlreadyEnabled extends Schema.TaggedError<MfaAlreadyEnabled>()("MfaAlreadyEnabled", {}) {}

/**
 * The password was verified at a time the account no longer honours: it was changed at or after
 * that moment (domain/authentication.ts), so a step begun with the old password cannot finish.
 */
export class CredentialsChanged extends Schema.TaggedError<CredentialsChanged>()("CredentialsChanged", {}) {}

export type AccountError =
  | AccountClosed
  | AccountNotFound
  | AccountAlreadyRegistered
  | ConsentMissing
  | SessionNotLive
  | SessionAlreadyStarted
  | StaleRefresh
  | MfaNotEnabled
  | MfaAlreadyEnabled
  | CredentialsChanged
  | RoleAboveGrantor
  | NotForServiceAccount;
