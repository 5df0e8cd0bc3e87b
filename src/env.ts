// Bindings declared in wrangler.toml. Kept by hand (small, reviewed with wrangler.toml).
import type { AccountObject } from "./objects/account-object.ts";
import type { AuditShardObject } from "./objects/audit-shard-object.ts";
import type { DirectoryShardObject } from "./objects/directory-shard-object.ts";
import type { ClientRegistryObject } from "./objects/client-registry-object.ts";
import type { EmailIndexObject } from "./objects/email-index-object.ts";
import type { SigningKeysObject } from "./objects/signing-keys-object.ts";
import type { ThrottleObject } from "./objects/throttle-object.ts";

export interface Env {
  readonly ACCOUNTS: DurableObjectNamespace<AccountObject>;
  readonly EMAILS: DurableObjectNamespace<EmailIndexObject>;
  readonly CLIENTS: DurableObjectNamespace<ClientRegistryObject>;
  readonly KEYS: DurableObjectNamespace<SigningKeysObject>;
  readonly DIRECTORY: DurableObjectNamespace<DirectoryShardObject>;
  readonly AUDIT: DurableObjectNamespace<AuditShardObject>;
  readonly THROTTLE: DurableObjectNamespace<ThrottleObject>;
  /** Per-IP burst for sign-in, sign-up and registration (default per action, src/http/throttle.ts). */
  readonly THROTTLE_BURST?: string;
  /** Per-IP sustained rate per minute for the same (default per action). */
  readonly THROTTLE_PER_MINUTE?: string;
  /** Snapshot the account state every N events (default 200; 0 disables). */
  readonly SNAPSHOT_EVERY?: string;
  /** Comma-separated emails granted `owner` at sign-up. */
  readonly ADMIN_EMAILS?: string;
  /**
   * "true" lets Client ID Metadata Documents be fetched over http from loopback hosts
   * (draft-ietf-oauth-client-id-metadata-document §8.6). Development and tests only; never in production.
   */
  readonly ALLOW_LOOPBACK_CIMD?: string;
}
