// HTML for the sign-up, sign-in, consent and message pages. Plain forms, no JavaScript:
// a person with a browser, a password manager and a program that reads forms all see the
// same fields (autocomplete tokens per the HTML spec's autofill section).

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const SCOPE_TEXT: Record<string, string> = {
  "account:read": "See your account (email and roles) and your own account history",
  "account:manage": "Sign you out of your sessions and withdraw access you gave to applications",
  "accounts:read": "See the directory of all accounts and the health of read models (operators only)",
  "audit:read": "Search the audit trail of every account (auditors only)",
  "clients:manage": "Register and disable OAuth clients and service accounts (admins only)",
};

const STYLE = `
  body { font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; color: #1d2330; margin: 0; }
  main { max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem; border-radius: 12px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  label { display: block; margin: 1rem 0 .25rem; font-weight: 600; }
  input[type=email], input[type=password] { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit;
         border: 1px solid #b8bfcc; border-radius: 6px; }
  input:focus, button:focus, a:focus { outline: 3px solid #4c7cf0; outline-offset: 2px; }
  button { margin-top: 1.25rem; padding: .6rem 1.2rem; font: inherit; border-radius: 6px; border: 0;
           background: #2f5bd3; color: #fff; cursor: pointer; }
  button.secondary { background: #e6e9ef; color: #1d2330; margin-left: .5rem; }
  .error { background: #fdecec; color: #8a1c1c; padding: .6rem .8rem; border-radius: 6px; }
  .warning { background: #fff6dd; color: #6b4e00; padding: .6rem .8rem; border-radius: 6px; }
  .warning.local { border-left: 6px solid #c98a00; }
  .new { background: #e3ecff; color: #1f3f99; border-radius: 4px; padding: 0 .35rem; font-size: .85rem; }
  button.link { background: none; color: #2f5bd3; padding: 0; margin: 0; text-decoration: underline; font-size: .9rem; }
  .hint { color: #5a6375; font-size: .9rem; }
`;

export const layout = (title: string, body: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Warden</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body></html>`;

const errorBox = (error: string | null) => (error ? `<p class="error" role="alert">${escape(error)}</p>` : "");
const hidden = (name: string, value: string | null) =>
  value === null ? "" : `<input type="hidden" name="${name}" value="${escape(value)}">`;

export const signInPage = (v: { request: string; clientName: string; email: string; error: string | null }) =>
  layout(
    "Sign in",
    `<h1>Sign in to continue to ${escape(v.clientName)}</h1>
${errorBox(v.error)}
<form method="post" action="/login">
  ${hidden("request", v.request)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escape(v.email)}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<p class="hint">New here? <a id="signup-link" href="/signup?request=${encodeURIComponent(v.request)}">Create an account</a></p>`,
  );

export const signUpPage = (v: {
  request: string | null;
  clientName: string | null;
  email: string;
  error: string | null;
  minLength: number;
}) =>
  layout(
    "Create account",
    `<h1>Create your account${v.clientName ? ` to continue to ${escape(v.clientName)}` : ""}</h1>
${errorBox(v.error)}
<form method="post" action="/signup">
  ${hidden("request", v.request)}
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${escape(v.email)}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="new-password" required minlength="${v.minLength}"
         aria-describedby="password-hint">
  <p id="password-hint" class="hint">At least ${v.minLength} characters. A passphrase is easiest.</p>
  <button type="submit">Create account</button>
</form>
${v.request ? `<p class="hint">Already have an account? <a id="signin-link" href="/login?request=${encodeURIComponent(v.request)}">Sign in</a></p>` : ""}`,
  );

/**
 * The consent page. The client's name is its own claim, so the page also shows its client id and
 * where the answer goes. When the answer goes to this computer (loopback) or to an app (a
 * private-use scheme), the page shows the whole redirect URI and a prominent warning, and is
 * shown every time: any program can listen there or claim the scheme under any name (RFC 8252
 * §8.6). When the account
 * granted this client some scopes before, the ones it has not granted are marked new.
 */
export const consentPage = (v: {
  ticket: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  redirectUri: string;
  scopes: ReadonlyArray<string>;
  newScopes: ReadonlyArray<string>;
  /** Requested scopes no tool can use with this account's roles (granted anyway, useless today). */
  beyondRoles: ReadonlyArray<string>;
  email: string;
  /** Who can receive the answer: domain/oauth.ts redirectReach of the presented redirect URI. */
  reach: "web" | "loopback" | "app";
}) =>
  layout(
    "Allow access",
    `<h1>${v.newScopes.length > 0 ? `<bdi>${escape(v.clientName)}</bdi> asks for more access` : `Allow <bdi>${escape(v.clientName)}</bdi> to access your account?`}</h1>
${v.reach === "web" ? "" : localWarning(v.clientName, v.redirectUri, v.reach)}
<p>Signed in as <strong>${escape(v.email)}</strong>.</p>
<form method="post" action="/logout" class="switch">
  ${hidden("ticket", v.ticket)}
  <button type="submit" class="link" id="switch-account">Not you? Use another account</button>
</form>
<p><strong><bdi>${escape(v.clientName)}</bdi></strong> <span class="hint">(client id ${escape(v.clientId)}; the name is chosen by the application itself)</span>
will be able to do the following, and your answer will be sent to <strong>${escape(v.reach === "web" ? v.redirectHost : v.redirectUri)}</strong>:</p>
<ul>${v.scopes.map((s) => `<li>${escape(SCOPE_TEXT[s] ?? s)} <span class="hint">(${escape(s)})</span>${v.newScopes.includes(s) ? ' <span class="new">new</span>' : ""}${v.beyondRoles.includes(s) ? ' <span class="hint">— your roles do not allow this, so it will not work for now</span>' : ""}</li>`).join("")}</ul>
<form method="post" action="/consent">
  ${hidden("ticket", v.ticket)}
  ${hidden("csrf", v.csrf)}
  <button type="submit" name="decision" value="allow">Allow</button>
  <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
  );

const localWarning = (clientName: string, redirectUri: string, reach: "loopback" | "app") =>
  reach === "loopback"
    ? `<div class="warning local" id="local-client-warning">
<p><strong>Only allow this if you just started <bdi>${escape(clientName)}</bdi> on this computer.</strong></p>
<p>It receives your answer at <strong>${escape(redirectUri)}</strong>, an address on your own computer.
Any program running on your computer can listen there and call itself by any name, so Warden cannot check which program this really is.
If you did not start it yourself just now, choose Deny. Because of this, Warden asks you every time for such applications.</p>
</div>`
    : `<div class="warning local" id="local-client-warning">
<p><strong>Only allow this if you just started <bdi>${escape(clientName)}</bdi> in an app on this device.</strong></p>
<p>It receives your answer at <strong>${escape(redirectUri)}</strong>, an app address on your own device.
Any app installed on your device can claim that address and call itself by any name, so Warden cannot check which app this really is.
If you did not start it yourself just now, choose Deny. Because of this, Warden asks you every time for such applications.</p>
</div>`;

export const messagePage = (title: string, message: string) =>
  layout(title, `<h1>${escape(title)}</h1><p>${escape(message)}</p>`);
