// Imperative commands against one account. Time and ids arrive on the command: the
// decider has no clock and no randomness.

import type { Role, Permission } from "./roles.ts";
import type { AuthMethod, ClientKind } from "./events.ts";

/**
 * A second factor the edge checked against the side tables (TOTP step not yet used, or an
 * unused recovery code's hash); the decider records the outcome under the lockout policy.
 */
export interface SecondFactorProof {
  readonly method: "totp" | "recovery_code";
  readonly verified: boolean;
}

export type AccountCommand =
  | { readonly _tag: "RegisterAccount"; readonly accountId: string; readonly email: string }
  /**
   * An operator creates a service account for a machine client (client_credentials): no email,
   * no password, bound to one client and the scopes it was registered with. `grantorRoles` are
   * the operator's roles in force: no role above their highest one is handed out.
   */
  | {
      readonly _tag: "RegisterServiceAccount";
      readonly accountId: string;
      readonly name: string;
      readonly clientId: string;
      readonly scopes: ReadonlyArray<string>;
      readonly roles: ReadonlyArray<Role>;
      readonly grantorRoles: ReadonlyArray<Role>;
    }
  | {
      readonly _tag: "GrantRole";
      readonly role: Role;
      readonly reason: string;
      /** null grants the role permanently; a time makes it expire then (via the alarm). */
      readonly expiresAt: number | null;
    }
  /** Records every expiry due at `at` (sessions, revoked ones too; time-bound roles); safe to run twice. */
  | { readonly _tag: "ExpireDue"; readonly at: number }
  | { readonly _tag: "CloseAccount"; readonly reason: string }
  /** The edge verified the password against the credentials table; the decider records the outcome. */
  | { readonly _tag: "RecordLogin"; readonly passwordMatches: boolean; readonly clientId: string | null; readonly at: number }
  /** An operator lifts a lockout before it expires (and clears the failure count). */
  | { readonly _tag: "UnlockAccount"; readonly reason: string }
  | {
      readonly _tag: "GrantConsent";
      readonly clientId: string;
      readonly clientName: string;
      readonly redirectHost: string;
      readonly scopes: ReadonlyArray<string>;
    }
  | { readonly _tag: "DenyConsent"; readonly clientId: string; readonly scopes: ReadonlyArray<string> }
  /** The user withdraws a client's consent; the client's live sessions end with it. */
  | { readonly _tag: "RevokeConsent"; readonly clientId: string }
  | {
      readonly _tag: "StartSession";
      readonly sessionId: string;
      readonly clientId: string;
      readonly scopes: ReadonlyArray<string>;
      readonly resource: string;
      readonly expiresAt: number;
      readonly at: number;
      /** RFC 8176 methods the person signed in with (from the code's consent). */
      readonly amr: ReadonlyArray<AuthMethod>;
    }
  | {
      readonly _tag: "RefreshSession";
      readonly sessionId: string;
      /** The generation of the refresh token presented; must be the current one. */
      readonly generation: number;
      readonly expiresAt: number;
      readonly at: number;
    }
  | {
      readonly _tag: "RevokeSession";
      readonly sessionId: string;
      readonly reason: "refresh_token_reused" | "user_request" | "authorization_code_reused" | "client_revocation";
    }
  | {
      readonly _tag: "InvokeTool";
      readonly tool: string;
      readonly sessionId: string;
      readonly permission: Permission;
      readonly requiredScope: string;
      /** The presented access token's scopes: a refresh may narrow them below the session's (absent: the session's). */
      readonly tokenScopes?: ReadonlyArray<string>;
      readonly at: number;
    }
  | MfaCommand
  | ClientAdminCommand;

/**
 * Client administration, recorded in the acting operator's own log once the client registry
 * has stored the change (src/oauth/operator-clients.ts). A person's act: a service account is refused.
 */
export type ClientAdminCommand =
  | {
      readonly _tag: "RecordClientRegistered";
      readonly clientId: string;
      readonly kind: ClientKind;
      readonly clientName: string;
      readonly grantTypes: ReadonlyArray<string>;
      readonly scopes: ReadonlyArray<string>;
      readonly serviceAccountId: string | null;
    }
  | { readonly _tag: "RecordClientDisabled"; readonly clientId: string; readonly kind: ClientKind; readonly serviceAccountId: string | null };

/** Second factor and password commands (decided in domain/mfa.ts). */
export type MfaCommand =
  /** The first code from the new authenticator was right (checked at the edge): turn TOTP on. */
  /** `at`: the password-only sessions live then end with it (a second factor protects nothing they hold). */
  | { readonly _tag: "EnableMfa"; readonly recoveryCodes: number; readonly at: number }
  /** The second step of a sign-in for an account with MFA. */
  | {
      readonly _tag: "VerifySecondFactor";
      readonly proof: SecondFactorProof;
      readonly clientId: string | null;
      readonly at: number;
      /** When the sign-in's password was verified: a password changed since makes the step stale. */
      readonly passwordVerifiedAt?: number;
    }
  | { readonly _tag: "DisableMfa"; readonly proof: SecondFactorProof; readonly at: number }
  | { readonly _tag: "RegenerateRecoveryCodes"; readonly proof: SecondFactorProof; readonly count: number; readonly at: number }
  /**
   * Replace the password (the edge verified the current one and hashed the new one). Every
   * live session but `keepSessionId` is revoked: whoever held the old password loses access.
   */
  | { readonly _tag: "ChangePassword"; readonly currentPasswordMatches: boolean; readonly keepSessionId: string | null; readonly at: number };

export type AccountCommandType = AccountCommand["_tag"];
