// A person's part of the authorization, done with the keyboard only: Tab to move, typing,
// Enter or Space to follow a link or press a button. No clicks, no element.click(), no
// form.submit(). Every step waits (bounded) for what the next page must show, and takes a
// screenshot of each page it passes.

import type { Page } from "playwright-core";
import { focusedLabel, isFocused, screenshot, tabTo } from "./chromium.ts";

export const signInHeading = (page: Page) => page.getByRole("heading", { name: /^Sign in to continue to / });
export const signUpHeading = (page: Page) => page.getByRole("heading", { name: /^Create your account/ });
/** First-time consent, or a client asking for scopes beyond an earlier grant. */
export const consentHeading = (page: Page) =>
  page.getByRole("heading", { name: /^(Allow .+ to access your account\?|.+ asks for more access)$/ });

/** Opens the authorization URL; the sign-in page must come up with the email field focused. */
export async function openAuthorization(page: Page, url: URL, shot?: string) {
  const response = await page.goto(url.href);
  if (response?.status() !== 200) throw new Error(`GET ${url.pathname}: HTTP ${response?.status()}`);
  await signInHeading(page).waitFor();
  if (shot) await screenshot(page, shot);
}

/** Types into the focused field after checking it is the one its label says. */
async function typeInto(page: Page, label: string, text: string) {
  const field = page.getByLabel(label, { exact: true });
  await tabTo(page, field);
  if ((await focusedLabel(page)) !== label) throw new Error(`focused field is labelled ${await focusedLabel(page)}, not ${label}`);
  await page.keyboard.press("ControlOrMeta+A");
  await page.keyboard.type(text);
}

/** Tab to the button named `name` and press `key` on it (Enter and Space both activate buttons). */
export async function pressButton(page: Page, name: string, key: "Enter" | " " = "Enter") {
  const button = page.getByRole("button", { name, exact: true });
  await tabTo(page, button);
  await page.keyboard.press(key === " " ? "Space" : key);
}

/** From the sign-in page: the "Create account" link by Tab + Enter, then the sign-up form. */
export async function signUpByKeyboard(page: Page, email: string, password: string, shots: { signUp?: string; filled?: string } = {}) {
  const link = page.getByRole("link", { name: "Create an account" });
  await tabTo(page, link);
  await page.keyboard.press("Enter");
  await signUpHeading(page).waitFor();
  if (!(await isFocused(page.getByLabel("Email", { exact: true })))) throw new Error("sign-up page did not focus the email field");
  if (shots.signUp) await screenshot(page, shots.signUp);
  await typeInto(page, "Email", email);
  await page.keyboard.press("Tab");
  if ((await focusedLabel(page)) !== "Password") throw new Error("Tab from Email did not move to Password");
  await page.keyboard.type(password);
  if (shots.filled) await screenshot(page, shots.filled);
  await pressButton(page, "Create account", " ");
}

/** On the sign-in page: email, Tab, password, Enter in the password field (implicit submission). */
export async function signInByKeyboard(page: Page, email: string, password: string) {
  await typeInto(page, "Email", email);
  await page.keyboard.press("Tab");
  if ((await focusedLabel(page)) !== "Password") throw new Error("Tab from Email did not move to Password");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
}

/** On the consent page: Tab to Allow or Deny and press it; the browser then leaves for the redirect URI. */
export async function answerConsentByKeyboard(page: Page, decision: "Allow" | "Deny", appOrigin: string) {
  await pressButton(page, decision, decision === "Allow" ? "Enter" : " ");
  await page.waitForURL((url) => url.origin === appOrigin);
  return new URL(page.url());
}
