// An in-memory OAuth client provider for the MCP SDK clients (v1 and v2 share the shape).
//
// It is what a real MCP client keeps between runs, minus persistence: the dynamic
// client registration, the PKCE verifier, the tokens. "Redirecting the user" only
// records the authorization URL; the test (or the demo) then drives the pages with
// browser.ts and hands the code back to the transport's finishAuth().

import { randomBytes } from "node:crypto";
import type { OAuthDiscoveryState as DiscoveryV1 } from "@modelcontextprotocol/sdk/client/auth.js";
import type { OAuthClientInformationMixed, OAuthTokens } from "@modelcontextprotocol/sdk/shared/auth.js";
import type {
  OAuthDiscoveryState as DiscoveryV2,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from "@modelcontextprotocol/client";

interface TokensShape {
  access_token: string;
  refresh_token?: string | undefined;
}
interface ClientShape {
  client_id: string;
}

export interface ProviderOptions {
  readonly redirectUrl: string;
  readonly clientName: string;
  readonly scope?: string;
}

/** Type parameters are the SDK generation's own token, client-information and discovery types. */
export class MemoryOAuthProvider<TTokens extends TokensShape, TClient extends ClientShape, TDiscovery extends object> {
  readonly options: ProviderOptions;
  /** The last URL the SDK asked to send the user to. */
  authorizationUrl: URL | undefined;
  /** The `state` the SDK put on the last authorization request. */
  lastState: string | undefined;
  /** Every token set saved, oldest first (for checking rotation). */
  readonly tokenHistory: TTokens[] = [];
  #client: TClient | undefined;
  #tokens: TTokens | undefined;
  #verifier: string | undefined;
  #discovery: TDiscovery | undefined;

  constructor(options: ProviderOptions) {
    this.options = options;
  }

  get redirectUrl(): string {
    return this.options.redirectUrl;
  }

  get clientMetadata() {
    return {
      client_name: this.options.clientName,
      redirect_uris: [this.options.redirectUrl],
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
      ...(this.options.scope === undefined ? {} : { scope: this.options.scope }),
    };
  }

  state(): string {
    this.lastState = randomBytes(16).toString("base64url");
    return this.lastState;
  }

  clientInformation(): TClient | undefined {
    return this.#client;
  }

  saveClientInformation(info: TClient): void {
    this.#client = info;
  }

  tokens(): TTokens | undefined {
    return this.#tokens;
  }

  saveTokens(tokens: TTokens): void {
    this.#tokens = tokens;
    this.tokenHistory.push(tokens);
  }

  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }

  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }

  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error("no PKCE code verifier saved");
    return this.#verifier;
  }

  /** Kept with the verifier, so the callback leg is checked against the same authorization server. */
  saveDiscoveryState(state: TDiscovery): void {
    this.#discovery = state;
  }

  discoveryState(): TDiscovery | undefined {
    return this.#discovery;
  }

  invalidateCredentials(scope: "all" | "client" | "tokens" | "verifier" | "discovery"): void {
    if (scope === "all" || scope === "client") this.#client = undefined;
    if (scope === "all" || scope === "tokens") this.#tokens = undefined;
    if (scope === "all" || scope === "verifier") this.#verifier = undefined;
    if (scope === "all" || scope === "discovery") this.#discovery = undefined;
  }

  /**
   * Makes the stored access token unusable while keeping the refresh token, as if it
   * had expired server-side. The next MCP request gets 401 and the SDK refreshes.
   */
  spoilAccessToken(): void {
    if (this.#tokens === undefined) throw new Error("no tokens to spoil");
    this.#tokens = { ...this.#tokens, access_token: `expired-${randomBytes(8).toString("hex")}` };
  }
}

/** For `@modelcontextprotocol/sdk` 1.x transports. */
export type ProviderV1 = MemoryOAuthProvider<OAuthTokens, OAuthClientInformationMixed, DiscoveryV1>;
/** For `@modelcontextprotocol/client` 2.x transports. */
export type ProviderV2 = MemoryOAuthProvider<StoredOAuthTokens, StoredOAuthClientInformation, DiscoveryV2>;

/** A strong random password (the server requires at least 12 characters). */
export const randomPassword = () => `pw-${randomBytes(18).toString("base64url")}`;

/** A fresh, unique address on a reserved domain. */
export const randomEmail = (prefix = "user") => `${prefix}-${randomBytes(6).toString("hex")}@example.com`;
