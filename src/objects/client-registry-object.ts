// ClientRegistryObject: the home of one OAuth client's registration (RFC 7591), one object
// per client_id (idFromName(client_id)). Layout: client(id=1, metadata JSON), secret(id=1, hash)
// for confidential clients (SHA-256 of the secret only).

import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env.ts";
import { constantTimeEqual } from "../crypto.ts";
import { hasTable } from "../store/migrations.ts";

/** RFC 7591 §2: `none` for public clients; a client secret for confidential ones (RFC 6749 §2.3.1). */
export const TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

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
}

// The table is created on registration only: a lookup of an unknown client id leaves no storage.
export class ClientRegistryObject extends DurableObject<Env> {
  /**
   * Registration is create-only: a client id is never re-bound to other metadata. A
   * confidential client's secret is kept only as its SHA-256 and never leaves this object.
   */
  register(metadata: ClientMetadata, secretHash: string | null = null): boolean {
    if (this.get()) return false;
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS client (id INTEGER PRIMARY KEY CHECK (id = 1), metadata TEXT NOT NULL)");
    sql.exec("CREATE TABLE IF NOT EXISTS secret (id INTEGER PRIMARY KEY CHECK (id = 1), hash TEXT NOT NULL)");
    sql.exec("INSERT INTO client (id, metadata) VALUES (1, ?)", JSON.stringify(metadata));
    if (secretHash !== null) sql.exec("INSERT INTO secret (id, hash) VALUES (1, ?)", secretHash);
    return true;
  }

  get(): ClientMetadata | null {
    if (!hasTable(this.ctx.storage.sql, "client")) return null;
    const row = this.ctx.storage.sql.exec<{ metadata: string }>("SELECT metadata FROM client WHERE id = 1").toArray()[0];
    return row ? (JSON.parse(row.metadata) as ClientMetadata) : null;
  }

  /** Constant-time check of a presented secret's hash against the stored one. */
  secretMatches(presentedHash: string): boolean {
    if (!hasTable(this.ctx.storage.sql, "secret")) return false;
    const row = this.ctx.storage.sql.exec<{ hash: string }>("SELECT hash FROM secret WHERE id = 1").toArray()[0];
    return row !== undefined && constantTimeEqual(row.hash, presentedHash);
  }
}
