// Discovery documents: RFC 8414 authorization-server metadata and RFC 9728
// protected-resource metadata. A client needs nothing but the /mcp URL to find these.

import { SUPPORTED_SCOPES } from "../../domain/oauth.ts";
import { json, issuerOf, resourceOf } from "../http/responses.ts";
import { TOKEN_ENDPOINT_AUTH_METHODS } from "../objects/client-registry-object.ts";

const PUBLIC = { "Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=300" };

export const authorizationServerMetadata = (request: Request) => {
  const issuer = issuerOf(request);
  return json(
    {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      revocation_endpoint: `${issuer}/revoke`,
      revocation_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
      introspection_endpoint: `${issuer}/introspect`,
      introspection_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      scopes_supported: [...SUPPORTED_SCOPES],
      response_types_supported: ["code"],
      response_modes_supported: ["query"],
      // client_credentials only for operator-registered service clients (RFC 6749 §4.4); DCR cannot register it.
      grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
      token_endpoint_auth_methods_supported: [...TOKEN_ENDPOINT_AUTH_METHODS],
      code_challenge_methods_supported: ["S256"],
      // RFC 9207: `iss` is returned on every authorization response.
      authorization_response_iss_parameter_supported: true,
      // draft-ietf-oauth-client-id-metadata-document §6: an https URL may be the client_id.
      client_id_metadata_document_supported: true,
      service_documentation: `${issuer}/`,
    },
    200,
    PUBLIC,
  );
};

export const protectedResourceMetadata = (request: Request) => {
  const issuer = issuerOf(request);
  return json(
    {
      resource: resourceOf(request),
      authorization_servers: [issuer],
      // MCP authorization (scope selection): a resource never lists offline_access; refresh
      // tokens are the authorization server's business, not a permission on this resource.
      scopes_supported: SUPPORTED_SCOPES.filter((s: string) => s !== "offline_access"),
      bearer_methods_supported: ["header"],
      resource_name: "Warden MCP server",
      resource_documentation: `${issuer}/`,
    },
    200,
    PUBLIC,
  );
};

export const resourceMetadataUrl = (request: Request) =>
  `${issuerOf(request)}/.well-known/oauth-protected-resource/mcp`;
