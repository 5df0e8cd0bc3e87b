// Imperative commands against one account. Time and ids arrive on the command: the
// decider has no clock and no randomness.

import type { Role, Permission } from "./roles.ts";

export type AccountCommand =
  | { readonly _tag: "RegisterAccount"; readonly accountId: string; readonly email: string }
  | {
      readonly _tag: "GrantRole";
      readonly role: Role;
      readonly reason: string;
      /** null grants the role permanently; a time makes it expire then (via the alarm). */
      readonly expiresAt: number | null;
    }
  /** Records every expiry due at `at` (sessions, time-bound roles); safe to run twice. */
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
      readonly at: number;
    };

export type AccountCommandType = AccountCommand["_tag"];
