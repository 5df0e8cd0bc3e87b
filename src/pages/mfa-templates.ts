// HTML for the second-factor and account security pages. Plain forms, no JavaScript; every
// field has a label and the autocomplete token the HTML autofill spec gives it:
// `one-time-code` for TOTP (so phones offer the code and password managers fill it),
// `current-password` / `new-password` with a `username` field beside them (so a password
// manager knows which entry to update). Names and ids are stable: browser tests use them.

import { layout } from "./templates.ts";
import { qrSvg } from "./qr.ts";

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escape(value)}">`;
const errorBox = (error: string | null) => (error ? `<p class="error" role="alert">${escape(error)}</p>` : "");
const noticeBox = (notice: string | null) => (notice ? `<p class="notice" role="status">${escape(notice)}</p>` : "");

const STYLE = `<style>
  input[type=text] { width: 100%; box-sizing: border-box; padding: .6rem; font: inherit; border: 1px solid #b8bfcc; border-radius: 6px; }
  input.code { font-family: ui-monospace, monospace; letter-spacing: .15em; }
  /* The key wraps between its 4-character groups, the URI anywhere; a recovery code never. */
  code.secret, .codes code { font: 1.05rem ui-monospace, monospace; overflow-wrap: anywhere; }
  .codes code { white-space: nowrap; }
  input[readonly] { background: #f4f5f7; color: #5a6375; }
  .qr svg { display: block; margin: .5rem 0; border: 1px solid #e6e9ef; }
  section { border-top: 1px solid #e6e9ef; margin-top: 1.5rem; padding-top: .5rem; }
  .notice { background: #e8f5ec; color: #1b5e33; padding: .6rem .8rem; border-radius: 6px; }
  details { margin-top: 1.5rem; }
</style>`;

/** A TOTP code field: digits on phones, and the OS may offer the code it just received. */
const codeField = (id: string, label: string, hint: string) => `
  <label for="${id}">${label}</label>
  <input id="${id}" name="code" type="text" class="code" inputmode="numeric" autocomplete="one-time-code"
         pattern="[0-9 ]*" maxlength="7" required aria-describedby="${id}-hint" autofocus>
  <p id="${id}-hint" class="hint">${hint}</p>`;

/** One field for either a TOTP code or a recovery code (the server tells them apart). */
const factorField = (id: string) => `
  <label for="${id}">Code from your authenticator app, or a recovery code</label>
  <input id="${id}" name="code" type="text" class="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required>`;

/** The second step of a sign-in: an authenticator code, or (folded away) a recovery code. */
export const secondFactorPage = (v: { action: string; ticket: string; heading: string; error: string | null }) =>
  layout(
    "Two-step verification",
    `${STYLE}<h1>${escape(v.heading)}</h1>
${errorBox(v.error)}
<form method="post" action="${escape(v.action)}" id="totp-form">
  ${hidden("ticket", v.ticket)}
  ${codeField("code", "Code from your authenticator app", "The 6-digit code your app shows now.")}
  <button type="submit" id="verify-code">Verify</button>
</form>
<details id="recovery">
  <summary>Use a recovery code instead</summary>
  <form method="post" action="${escape(v.action)}" id="recovery-form">
    ${hidden("ticket", v.ticket)}
    <label for="recovery-code">Recovery code</label>
    <input id="recovery-code" name="recovery_code" type="text" class="code" autocomplete="off" autocapitalize="none" spellcheck="false" required
           aria-describedby="recovery-hint">
    <p id="recovery-hint" class="hint">One of the codes you saved when you turned on two-step verification. Each works once.</p>
    <button type="submit" id="verify-recovery">Use recovery code</button>
  </form>
</details>`,
  );

/** Proving who you are before changing security settings. */
export const accountSignInPage = (v: { email: string; error: string | null }) =>
  layout(
    "Security settings",
    `${STYLE}<h1>Sign in to manage your security settings</h1>
${errorBox(v.error)}
<form method="post" action="/account/security" id="account-signin">
  <label for="email">Email</label>
  <input id="email" name="email" type="email" autocomplete="username" required value="${escape(v.email)}" autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Continue</button>
</form>`,
  );

export interface SecurityView {
  readonly ticket: string;
  readonly email: string;
  readonly mfaEnabled: boolean;
  readonly recoveryCodesRemaining: number;
  readonly passwordMinLength: number;
  readonly notice: string | null;
  readonly error: string | null;
}

const mfaSection = (v: SecurityView) =>
  v.mfaEnabled
    ? `<p id="mfa-status">Two-step verification is <strong>on</strong>. ${v.recoveryCodesRemaining} recovery code${v.recoveryCodesRemaining === 1 ? "" : "s"} left.</p>
<form method="post" action="/account/mfa/recovery-codes" id="regenerate-form">
  ${hidden("ticket", v.ticket)}
  ${factorField("regenerate-code")}
  <button type="submit" id="regenerate">Get new recovery codes</button>
</form>
<form method="post" action="/account/mfa/disable" id="disable-form">
  ${hidden("ticket", v.ticket)}
  ${factorField("disable-code")}
  <button type="submit" id="disable-mfa" class="secondary">Turn off two-step verification</button>
</form>`
    : `<p id="mfa-status">Two-step verification is <strong>off</strong>. With it on, signing in also needs a code from an authenticator app on your phone.</p>
<form method="post" action="/account/mfa/enroll" id="enroll-form">
  ${hidden("ticket", v.ticket)}
  <button type="submit" id="enroll">Set up an authenticator app</button>
</form>`;

export const securityPage = (v: SecurityView) =>
  layout(
    "Security settings",
    `${STYLE}<h1>Security settings</h1>
<p>Signed in as <strong>${escape(v.email)}</strong>.</p>
${noticeBox(v.notice)}${errorBox(v.error)}
<section aria-labelledby="mfa-heading"><h2 id="mfa-heading">Two-step verification</h2>
${mfaSection(v)}
</section>
<section aria-labelledby="password-heading"><h2 id="password-heading">Change password</h2>
<form method="post" action="/account/password" id="password-form">
  ${hidden("ticket", v.ticket)}
  <label for="pw-username">Email</label>
  <input id="pw-username" name="username" type="email" autocomplete="username" value="${escape(v.email)}" readonly>
  <label for="current-password">Current password</label>
  <input id="current-password" name="current_password" type="password" autocomplete="current-password" required>
  <label for="new-password">New password</label>
  <input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="${v.passwordMinLength}"
         aria-describedby="new-password-hint">
  <p id="new-password-hint" class="hint">At least ${v.passwordMinLength} characters. Changing it signs out every application using your account.</p>
  <button type="submit" id="change-password">Change password</button>
</form>
</section>`,
  );

/** Enrollment: the seed as an otpauth:// link and as text, and the field for the first code. */
export const enrollPage = (v: { ticket: string; enrollmentId: string; secret: string; uri: string; error: string | null }) =>
  layout(
    "Set up two-step verification",
    `${STYLE}<h1>Set up your authenticator app</h1>
${errorBox(v.error)}
<ol>
  <li>In your authenticator app, add an account and scan this code:<br><span class="qr" id="otpauth-qr">${qrSvg(v.uri, "QR code with the key for your authenticator app")}</span><br>On this phone you can <a id="otpauth-link" href="${escape(v.uri)}">open it in the app</a> instead.</li>
  <li>Or type this key (time-based, 6 digits):<br><code class="secret" id="totp-secret">${escape(v.secret.match(/.{1,4}/g)!.join(" "))}</code></li>
  <li>Enter the code the app shows to finish.</li>
</ol>
<p class="hint">Setup link: <code class="secret" id="otpauth-uri">${escape(v.uri)}</code></p>
<form method="post" action="/account/mfa/confirm" id="confirm-form">
  ${hidden("ticket", v.ticket)}
  ${hidden("enrollment", v.enrollmentId)}
  ${codeField("confirm-code", "Code from your authenticator app", "Proves the app has the key; two-step verification starts after this.")}
  <button type="submit" id="confirm-mfa">Turn on</button>
</form>`,
  );

/** Recovery codes, shown this once; the next step goes back to the settings with the same ticket. */
export const recoveryCodesPage = (v: { ticket: string; codes: ReadonlyArray<string>; heading: string }) =>
  layout(
    "Recovery codes",
    `${STYLE}<h1>${escape(v.heading)}</h1>
<p>Save these recovery codes somewhere safe (a password manager, or on paper). Each one signs you in once if you lose your phone.
<strong>They are shown only now.</strong></p>
<ol class="codes" id="recovery-codes">${v.codes.map((c) => `<li><code>${escape(c)}</code></li>`).join("")}</ol>
<form method="post" action="/account/security" id="done-form">
  ${hidden("ticket", v.ticket)}
  <button type="submit" id="codes-saved">I saved them</button>
</form>`,
  );
