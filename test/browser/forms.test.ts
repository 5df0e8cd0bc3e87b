// The forms as Chromium parses them: autocomplete tokens (HTML Living Standard §4.10.18.7
// "Autofill"), labels (WCAG 1.3.1 / 4.1.2), constraint attributes, and what a password
// manager keys on: one username field, then one password field, in one same-origin POST form.

import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD_MIN } from "../../domain/credentials.ts";
import { screenshot, withPage as withBrowserPage } from "./chromium.ts";
import { newAuthorization, randomEmail, randomPassword, startStack, type Stack } from "./harness.ts";
import { consentHeading, openAuthorization, pressButton, signUpByKeyboard, signUpHeading } from "./keyboard.ts";
import { formsView, type FormView, type PageFormsView } from "./password-manager.ts";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack("browser-forms");
});

afterAll(async () => {
  await stack?.close();
});

/** A fresh page in this file's browser, closed whatever happens. */
const withPage = <T>(body: (page: Page) => Promise<T>) => withBrowserPage(stack.browser, body);

async function signInPageView(page: Page): Promise<PageFormsView> {
  await openAuthorization(page, (await newAuthorization(stack)).url);
  return formsView(page);
}

async function signUpPageView(page: Page): Promise<PageFormsView> {
  await openAuthorization(page, (await newAuthorization(stack)).url);
  const href = await page.getByRole("link", { name: "Create an account" }).getAttribute("href");
  await page.goto(new URL(href!, page.url()).href);
  await signUpHeading(page).waitFor();
  return formsView(page);
}

const credentialForms = (view: PageFormsView) => view.forms.filter((f) => f.fields.some((x) => x.type === "password"));
const kinds = (form: FormView) => form.fields.map((f) => `${f.type}:${f.autocomplete}`);

/** What every page with a credential form must hold, whatever the form is for. */
function expectCommonPasswordManagerRules(view: PageFormsView) {
  expect(view.passwordFieldsOutsideForms, "a password field outside any form is invisible to form-based managers").toBe(0);
  expect(view.autocompleteOff, 'autocomplete="off" anywhere on the page').toEqual([]);
  for (const form of view.forms) {
    expect(form.method, "credentials are never put in a URL").toBe("post");
    expect(new URL(form.action).origin, "the form posts to the page's own origin").toBe(view.origin);
    for (const field of form.fields) {
      expect(field.labels.length, `input ${field.name} has a <label>`).toBeGreaterThan(0);
    }
  }
}

describe("HTML autofill: autocomplete tokens read from the live DOM", () => {
  it("sign-in: email is autocomplete=username (type=email, required), password is current-password (required)", async () => {
    await withPage(async (page) => {
      const email = page.getByLabel("Email", { exact: true });
      const password = page.getByLabel("Password", { exact: true });
      const view = await signInPageView(page);
      expect(await email.getAttribute("autocomplete")).toBe("username");
      expect(await email.getAttribute("type")).toBe("email");
      expect(await email.evaluate((el: HTMLInputElement) => el.required)).toBe(true);
      expect(await password.getAttribute("autocomplete")).toBe("current-password");
      expect(await password.getAttribute("type")).toBe("password");
      expect(await password.evaluate((el: HTMLInputElement) => el.required)).toBe(true);
      expect(view.forms.flatMap((f) => f.fields).map((f) => f.autocomplete)).not.toContain("new-password");
    });
  });

  it(`sign-up: email is autocomplete=email (or username), password is new-password with minlength=${PASSWORD_MIN}, both required`, async () => {
    await withPage(async (page) => {
      await signUpPageView(page);
      const email = page.getByLabel("Email", { exact: true });
      const password = page.getByLabel("Password", { exact: true });
      expect(await email.getAttribute("autocomplete")).toMatch(/^(email|username)$/);
      expect(await email.getAttribute("type")).toBe("email");
      expect(await email.evaluate((el: HTMLInputElement) => el.required)).toBe(true);
      expect(await password.getAttribute("autocomplete")).toBe("new-password");
      expect(await password.evaluate((el: HTMLInputElement) => [el.type, el.required, el.minLength])).toEqual(["password", true, PASSWORD_MIN]);
      // The hint a screen reader reads with the field (aria-describedby) states the rule.
      expect(await password.evaluate((el) => document.getElementById(el.getAttribute("aria-describedby") ?? "")?.textContent ?? "")).toContain(String(PASSWORD_MIN));
    });
  });

  it("every visible input on the sign-in, sign-up and consent pages has exactly one <label>, found by getByLabel", async () => {
    await withPage(async (page) => {
      for (const load of [signInPageView, signUpPageView]) {
        const view = await load(page);
        for (const field of view.forms.flatMap((f) => f.fields)) expect(field.labels, `${view.path} input ${field.name}`).toHaveLength(1);
        expect(await page.getByLabel("Email", { exact: true }).getAttribute("name")).toBe("email");
        expect(await page.getByLabel("Password", { exact: true }).getAttribute("name")).toBe("password");
      }
    });
  });

  it("a too-short new password is stopped by the browser's constraint validation before anything is sent", async () => {
    await withPage(async (page) => {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      const posts: string[] = [];
      page.on("request", (r) => {
        if (r.method() === "POST") posts.push(r.url());
      });
      await signUpByKeyboard(page, randomEmail("short"), "x".repeat(PASSWORD_MIN - 1));
      const password = page.getByLabel("Password", { exact: true });
      await signUpHeading(page).waitFor();
      expect(await password.evaluate((el: HTMLInputElement) => el.validity.tooShort)).toBe(true);
      expect(posts).toEqual([]);
      await screenshot(page, "10-sign-up-password-too-short");
    });
  });

  it("a taken email on sign-up answers with an alert (role=alert) on the sign-up form, email kept", async () => {
    const taken = { email: randomEmail("taken"), password: randomPassword() };
    await withPage(async (page) => {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      await signUpByKeyboard(page, taken.email, taken.password);
      await consentHeading(page).waitFor();
    });
    await withPage(async (page) => {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      await signUpByKeyboard(page, taken.email, randomPassword());
      await page.getByRole("alert").waitFor();
      expect(await page.getByRole("alert").innerText()).toMatch(/already exists/i);
      expect(await page.getByLabel("Email", { exact: true }).inputValue()).toBe(taken.email);
      expect(await page.getByLabel("Password", { exact: true }).inputValue()).toBe("");
      await screenshot(page, "11-sign-up-email-taken");
      const view = await formsView(page);
      expect(credentialForms(view)).toHaveLength(1);
      expect(kinds(credentialForms(view)[0]!)).toEqual(["email:email", "password:new-password"]);
    });
  });
});

describe("a password manager's view of the forms", () => {
  it("sign-in: exactly one form with one username field followed by one current-password field, POST to the same origin", async () => {
    await withPage(async (page) => {
      const view = await signInPageView(page);
      expectCommonPasswordManagerRules(view);
      const forms = credentialForms(view);
      expect(forms).toHaveLength(1);
      expect(kinds(forms[0]!)).toEqual(["email:username", "password:current-password"]);
      expect(new URL(forms[0]!.action).pathname).toBe("/login");
    });
  });

  it("sign-up: exactly one form with one email field and one new-password field, no current-password, POST to the same origin", async () => {
    await withPage(async (page) => {
      const view = await signUpPageView(page);
      expectCommonPasswordManagerRules(view);
      const forms = credentialForms(view);
      expect(forms).toHaveLength(1);
      expect(kinds(forms[0]!)).toEqual([expect.stringMatching(/^email:(email|username)$/), "password:new-password"]);
      expect(new URL(forms[0]!.action).pathname).toBe("/signup");
    });
  });

  it("consent: no credential field at all, same-origin POST forms, Allow and Deny in the one posting to /consent", async () => {
    await withPage(async (page) => {
      await openAuthorization(page, (await newAuthorization(stack)).url);
      await signUpByKeyboard(page, randomEmail("consent-view"), randomPassword());
      await consentHeading(page).waitFor();
      const view = await formsView(page);
      expectCommonPasswordManagerRules(view);
      expect(credentialForms(view)).toHaveLength(0);
      const answer = view.forms.filter((f) => new URL(f.action).pathname === "/consent");
      expect(answer).toHaveLength(1);
      expect(answer[0]!.buttons).toEqual(["Allow", "Deny"]);
      // Reachable by keyboard, the safe choice included.
      await pressButton(page, "Deny", " ");
      await page.waitForURL((url) => url.origin === stack.app.origin);
    });
  });
});
