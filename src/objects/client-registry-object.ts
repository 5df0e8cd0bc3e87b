// ClientRegistryObject: the home of one OAuth client's registration (RFC 7591), one object
// per client_id (idFromName(client_id)). Layout: client(id=1, metadata JSON), secret(id=1, hash)
// for confidential clients (SHA-256 of the secret only), disabled(id=1, at, disabled_by) once an operator
// disabled the client (created then; a disabled client is unknown to every endpoint).

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { constantTimeEqual } from "../crypto.ts";
import { hasTable } from "../store/migrations.ts";

/** RFC 7591 §2: `none` for public clients; a client secret for confidential ones (RFC 6749 §2.3.1). */
export const TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/**
 * Who created a client and what it is for. `dynamic`: RFC 7591 registration (the default when
 * absent). `operator`: pre-registered by an operator. `service`: a client_credentials client
 * acting as its own service account. `resource_server`: a confidential client that only
 * introspects tokens for the resources it serves (RFC 7662 §2.1), with no grant types.
 */
export const CLIENT_KINDS = ["dynamic", "operator", "service", "resource_server"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export interface ClientMetadata {
  readonly client_id: string;
  readonly client_id_issued_at: number;
  readonly client_name: string;
  readonly redirect_uris: ReadonlyArray<string>;
  readonly grant_types: ReadonlyArray<string>;
  readonly response_types: ReadonlyArray<string>;
  readonly token_endpoint_auth_method: TokenEndpointAuthMethod;
  readonly scope: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly software_id?: string;
  readonly software_version?: string;
  /** Absent on clients registered through /register: `dynamic`. */
  readonly kind?: ClientKind;
  /** The operator's account id, for operator-created clients. */
  readonly registered_by?: string;
  /** `service` clients: the account their tokens stand for (`sub`). */
  readonly service_account_id?: string;
  /** `resource_server` clients: the resources whose tokens they may introspect. */
  readonly resources?: ReadonlyArray<string>;
}

export const clientKind = (client: ClientMetadata): ClientKind => client.kind ?? "dynamic";

// The table is created on registration only: a lookup of an unknown client id leaves no storage.
export class ClientRegistryObject extends DurableObject<Env> {
  /**
   * Registration is create-only: a client id is never re-bound to other metadata. A
   * confidential client's secret is kept only as its SHA-256 and never leaves this object.
   */
  register(metadata: ClientMetadata, secretHash: string | null = null): boolean {
    if (this.stored()) return false;
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS client (id INTEGER PRIMARY KEY CHECK (id = 1), metadata TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS secret (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL)");
    sql.exec("INSERT INTO client (id, metadata) VALUES (1, ?)", JSON.stringify(metadata));
    if (secretHash !== null) sql.exec("INSERT INTO secret (id, hash) VALUES (1, ?)", secretHash);
    return true;
  }

  /** The client as every endpoint sees it: null when unknown or disabled. */
  get(): ClientMetadata | null {
    return this.disabled() ? null : this.stored();
  }

  /** The registration and whether (and by whom) it was disabled, for operators. */
  record(): { metadata: ClientMetadata; disabled: { at: number; by: string } | null } | null {
    const metadata = this.stored();
    return metadata ? { metadata, disabled: this.disabled() } : null;
  }

  /** An operator disables a client for good; disabling twice keeps the first record. */
  disable(by: string, at: number): boolean {
    if (!this.stored()) return false;
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS disabled (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL, disabled_by TEXT NOT NULL)");
    sql.exec("INSERT OR IGNORE INTO disabled (id, at, disabled_by) VALUES (1, ?, ?)", at, by);
    return true;
  }

  private disabled(): { at: number; by: string } | null {
    if (!hasTable(this.ctx.storage.sql, "disabled")) return null;
    const row = this.ctx.storage.sql.exec<{ at: number; disabled_by: string }>("SELECT at, disabled_by FROM disabled WHERE id = 1").toArray()[0];
    return row ? { at: row.at, by: row.disabled_by } : null;
  }

  private stored(): ClientMetadata | null {
    if (!hasTable(this.ctx.storage.sql, "client")) return null;
    const row = this.ctx.storage.sql.exec<{ metadata: string }>("SELECT metadata FROM client WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.metadata) as ClientMetadata) : null;
  }

  /** Constant-time check of a presented secret's hash against the stored one. */
  secretMatches(presentedHash: string): boolean {
    if (!hasTable(this.ctx.storage.sql, "secret") || this.disabled()) return false;
    const row = this.ctx.storage.sql.exec<{ hash: string }>("SELECT hash FROM secret WHERE id = 1").toArray()[0];
    return row !== undefined && constantTimeEqual(row.hash, presentedHash);
  }

  // Client ID Metadata Document cache (src/oauth/cimd.ts), in the object named by the document
  // URL: document(id=1, metadata JSON, fetched_at, expires_at), only ever a validated document
  // (draft-ietf-oauth-client-id-metadata-document §5.2: errors and invalid documents are not cached).

  /** The cached document while it is fresh (expires_at in ms), else null. */
  cachedDocument(now: number): ClientMetadata | null {
    if (!hasTable(this.ctx.storage.sql, "document")) return null;
    const row = this.ctx.storage.sql
      .exec<{ metadata: string }>("SELECT metadata FROM document WHERE id = 1 AND expires_at > ?", now)
      .toArray()[0];
    return row ? (JSON.parse(row.metadata) as ClientMetadata) : null;
  }

  /** Replaces the cached document; null forgets it (a failed or no-store refetch). */
  cacheDocument(entry: { metadata: ClientMetadata; fetchedAt: number; expiresAt: number } | null): void {
    const sql = this.ctx.storage.sql;
    if (entry === null) {
      if (hasTable(sql, "document")) sql.exec("DELETE FROM document");
      return;
    }
    sql.exec(
      "CREATE TABLE IF NOT EXISTS document (id INTEGER PRIMARY KEY CHECK (id = 1), metadata TEXT NOT NULL, fetched_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)",
    );
    sql.exec(
      "INSERT OR REPLACE INTO document (id, metadata, fetched_at, expires_at) VALUES (1, ?, ?, ?)",
      JSON.stringify(entry.metadata), entry.fetchedAt, entry.expiresAt,
    );
  }
}
