// Client Identifier URLs (draft-ietf-oauth-client-id-metadata-document-02 §3) and the SSRF
// guard in front of fetching them (§8.6). Pure: no fetch, no storage, so the whole table of
// refused addresses is tested without a network.
//
// The guard checks the URL as the fetch will see it: the WHATWG URL parser has already
// normalized the host (IPv4 in decimal, hex, octal or short forms becomes dotted decimal;
// IPv6 is lower-cased and compressed; an embedded IPv4 becomes hex groups). Host names are
// not resolved here: a Worker cannot resolve DNS before fetch(), and in production its
// fetches leave through Cloudflare's edge, which does not route to the deployment's private
// networks. A name that resolves to a private address is therefore a concern only for
// `wrangler dev`, where the loopback setting is the developer's explicit choice anyway.

/** Long enough for any real document URL; short enough to sit in tokens, events and pages. */
export const MAX_CLIENT_ID_URL_LENGTH = 512;

export interface UrlPolicy {
  /** ALLOW_LOOPBACK_CIMD: development only (§8.6 lets a loopback AS fetch from loopback). */
  readonly allowLoopback: boolean;
}

/**
 * Routing, not validation: a client_id that starts like a URL is a Client Identifier URL and is
 * resolved by fetching its document, never looked up as a registered id (registered ids are
 * random base64url, so they never look like this; draft §7.1).
 */
export const isMetadataUrl = (clientId: string): boolean => /^https?:\/\//i.test(clientId);

/** The host a person should see for a CIMD client (draft §8.5), or null for other clients. */
export const metadataDocumentHost = (clientId: string): string | null => {
  if (!isMetadataUrl(clientId)) return null;
  try {
    return new URL(clientId).host;
  } catch {
    return null;
  }
};

type HostVerdict = { readonly refused: string } | "loopback" | "public";

// RFC 6890 and the IANA IPv4 Special-Purpose Address Registry: never fetched.
const IPV4_SPECIAL: ReadonlyArray<readonly [string, number, string]> = [
  ["0.0.0.0", 8, "\"this network\""],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared (CGNAT)"],
  ["169.254.0.0", 16, "link-local"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "IETF protocol assignments"],
  ["192.0.2.0", 24, "documentation"],
  ["192.31.196.0", 24, "AS112"],
  ["192.52.193.0", 24, "AMT"],
  ["192.88.99.0", 24, "6to4 relay anycast"],
  ["192.168.0.0", 16, "private"],
  ["192.175.48.0", 24, "AS112"],
  ["198.18.0.0", 15, "benchmarking"],
  ["198.51.100.0", 24, "documentation"],
  ["203.0.113.0", 24, "documentation"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

const ipv4ToInt = (address: string): number =>
  address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);

const inPrefix = (ip: number, base: string, bits: number) =>
  Math.floor(ip / 2 ** (32 - bits)) === Math.floor(ipv4ToInt(base) / 2 ** (32 - bits));

function ipv4Verdict(address: string): HostVerdict {
  const ip = ipv4ToInt(address);
  if (inPrefix(ip, "127.0.0.0", 8)) return "loopback";
  const special = IPV4_SPECIAL.find(([base, bits]) => inPrefix(ip, base, bits));
  return special ? { refused: `${address} is a ${special[2]} address` } : "public";
}

/** Expands the parser's canonical IPv6 text (no brackets) into eight 16-bit groups. */
function ipv6Groups(text: string): number[] | null {
  const [head, tail, extra] = text.split("::");
  if (extra !== undefined) return null;
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const groups = tail === undefined ? left : [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

/**
 * IPv6 is decided by allowlist: only global unicast (2000::/3, RFC 4291 §2.4) minus the
 * special blocks inside it (2001::/23 protocol assignments incl. Teredo, 2001:db8::/32 and
 * 3fff::/20 documentation, 2002::/16 6to4, which embeds an arbitrary IPv4). Everything else
 * (::, ::1, IPv4-mapped/-compatible, NAT64, ULA fc00::/7, link-local fe80::/10, multicast
 * ff00::/8, ...) is special-use.
 */
function ipv6Verdict(hostname: string): HostVerdict {
  const groups = ipv6Groups(hostname.slice(1, -1));
  if (!groups) return { refused: `${hostname} is not an IPv6 address` };
  const [a, b] = groups as [number, number];
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return "loopback";
  const global = (a & 0xe000) === 0x2000;
  const special = (a === 0x2001 && b < 0x0200) || (a === 0x2001 && b === 0x0db8) || a === 0x2002 || (a === 0x3fff && b < 0x1000);
  return global && !special ? "public" : { refused: `${hostname} is a special-use IPv6 address` };
}

// RFC 6761 (localhost, invalid, test, example), RFC 6762 (local), RFC 7686 (onion),
// RFC 8375 (home.arpa, under arpa), RFC 9476 (alt), ICANN's reserved `internal`.
const SPECIAL_TLDS = new Set(["localhost", "local", "internal", "invalid", "test", "example", "onion", "arpa", "alt"]);

/** Whether a parsed URL host may be fetched; `loopback` needs the development setting. */
export function hostVerdict(hostname: string): HostVerdict {
  if (hostname.startsWith("[")) return ipv6Verdict(hostname);
  const name = hostname.toLowerCase().replace(/\.$/, "");
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return ipv4Verdict(name);
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  if (!name.includes(".")) return { refused: `${hostname} is a single-label (internal) host name` };
  const tld = name.slice(name.lastIndexOf(".") + 1);
  if (SPECIAL_TLDS.has(tld)) return { refused: `.${tld} is a special-use domain` };
  return "public";
}

/**
 * §3: https, no userinfo, a path that is not just "/", no dot segments, no fragment; then the
 * §8.6 host guard. Checked on the raw string as well as the parsed URL, because the parser
 * silently repairs what a Client Identifier URL must not contain (dot segments, tabs,
 * backslashes) and the identifier is compared as a plain string (RFC 3986 §6.2.1).
 */
export function clientIdUrlProblem(clientId: string, policy: UrlPolicy): string | null {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return `the client_id URL is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters`;
  if (!/^[\x21-\x7e]+$/.test(clientId) || clientId.includes("\\")) {
    return "the client_id URL must be printable ASCII without spaces or backslashes";
  }
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return "the client_id is not a valid URL";
  }
  const http = clientId.startsWith("http://");
  if (!clientId.startsWith("https://") && !(http && policy.allowLoopback)) return "the client_id URL must use https";
  if (clientId.includes("#")) return "the client_id URL must not contain a fragment";
  const afterScheme = clientId.slice(clientId.indexOf("//") + 2);
  const authorityEnd = afterScheme.search(/[/?]/);
  const authority = authorityEnd < 0 ? afterScheme : afterScheme.slice(0, authorityEnd);
  if (authority.includes("@") || url.username !== "" || url.password !== "") return "the client_id URL must not contain user information";
  const rawPath = authorityEnd < 0 ? "" : afterScheme.slice(authorityEnd).split("?")[0]!;
  if (rawPath === "" || rawPath === "/") return "the client_id URL must have a path (the document cannot be the site root)";
  const dotSegment = rawPath.split("/").some((s) => [".", ".."].includes(s.replace(/%2e/gi, ".")));
  if (dotSegment) return "the client_id URL must not contain . or .. path segments";
  const host = hostVerdict(url.hostname);
  if (host === "loopback") {
    return policy.allowLoopback ? null : `${url.hostname} is a loopback address (allowed only with ALLOW_LOOPBACK_CIMD in development)`;
  }
  if (host !== "public") return host.refused;
  return http ? "the client_id URL must use https (http is allowed only for loopback in development)" : null;
}
