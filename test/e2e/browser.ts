// A tiny programmatic "browser" for the sign-in, sign-up and consent pages.
//
// It does what a person's browser does with plain HTML forms and nothing more:
// follows same-origin redirects, keeps cookies, reads <form>/<input>/<button>/<a>
// from the HTML, and submits a form with every successful control (hidden ones
// included) as application/x-www-form-urlencoded to the action resolved against
// the page URL. A redirect that leaves the origin (the OAuth redirect back to the
// client) is not followed: it is returned, so the caller can read its Location.

import { parse, type HTMLElement } from "node-html-parser";

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface Page {
  /** The URL that produced this response (after same-origin redirects). */
  readonly url: URL;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Resolved Location header, for 3xx responses. */
  readonly location: URL | undefined;
  /** Parsed document (empty for non-HTML bodies). */
  readonly document: HTMLElement;
}

export interface FormControl {
  readonly tag: string;
  readonly type: string;
  readonly name: string;
  readonly value: string;
  readonly autocomplete: string | undefined;
  readonly element: HTMLElement;
}

export interface Form {
  readonly page: Page;
  readonly element: HTMLElement;
  readonly method: "GET" | "POST";
  readonly action: URL;
  /** Controls a browser would submit (no submit buttons), in document order. */
  readonly fields: readonly FormControl[];
  /** Submit buttons (<button> without type, type=submit, <input type=submit>). */
  readonly submitters: readonly FormControl[];
}

const lower = (s: string | undefined) => (s ?? "").toLowerCase();

const isSubmitter = (el: HTMLElement) => {
  const tag = lower(el.tagName);
  const type = lower(el.getAttribute("type"));
  return (tag === "button" && (type === "" || type === "submit")) || (tag === "input" && (type === "submit" || type === "image"));
};

/** The value a browser would submit for a control, or undefined if it is not submitted. */
const controlValue = (el: HTMLElement): string | undefined => {
  const tag = lower(el.tagName);
  const type = lower(el.getAttribute("type"));
  if (el.getAttribute("disabled") !== undefined) return undefined;
  if (tag === "textarea") return el.text;
  if (tag === "select") {
    const options = el.querySelectorAll("option");
    const chosen = options.find((o) => o.getAttribute("selected") !== undefined) ?? options[0];
    return chosen === undefined ? undefined : (chosen.getAttribute("value") ?? chosen.text.trim());
  }
  if (tag !== "input") return undefined;
  if (type === "checkbox" || type === "radio") {
    return el.getAttribute("checked") !== undefined ? (el.getAttribute("value") ?? "on") : undefined;
  }
  if (["submit", "image", "reset", "button", "file"].includes(type)) return undefined;
  return el.getAttribute("value") ?? "";
};

const toControl = (el: HTMLElement, value: string): FormControl => ({
  tag: lower(el.tagName),
  type: lower(el.getAttribute("type")) || (lower(el.tagName) === "button" ? "submit" : "text"),
  name: el.getAttribute("name") ?? "",
  value,
  autocomplete: el.getAttribute("autocomplete"),
  element: el,
});

export class Browser {
  readonly #fetch: FetchLike;
  /** origin → cookie name → value */
  readonly #jar = new Map<string, Map<string, string>>();

  constructor(fetchImpl: FetchLike = fetch) {
    this.#fetch = fetchImpl;
  }

  cookies(origin: string): ReadonlyMap<string, string> {
    return this.#jar.get(origin) ?? new Map();
  }

  async get(url: string | URL): Promise<Page> {
    return this.navigate(new URL(url), { method: "GET" });
  }

  /** One navigation: follows redirects while they stay on the same origin (max 10). */
  async navigate(url: URL, init: { method: string; body?: URLSearchParams }): Promise<Page> {
    let current = url;
    let method = init.method;
    let body = init.body;
    for (let hop = 0; hop < 10; hop++) {
      const page = await this.#request(current, method, body);
      const next = page.location;
      if (next === undefined || page.status < 300 || page.status >= 400) return page;
      if (next.origin !== current.origin) return page; // e.g. back to the OAuth client
      // 307/308 keep the method and body; 301/302/303 become GET, as browsers do.
      if (page.status !== 307 && page.status !== 308) {
        method = "GET";
        body = undefined;
      }
      current = next;
    }
    throw new Error(`too many redirects starting at ${url.href}`);
  }

  async #request(url: URL, method: string, body: URLSearchParams | undefined): Promise<Page> {
    const headers = new Headers({ accept: "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8" });
    const cookie = [...this.cookies(url.origin)].map(([k, v]) => `${k}=${v}`).join("; ");
    if (cookie !== "") headers.set("cookie", cookie);
    if (body !== undefined) headers.set("content-type", "application/x-www-form-urlencoded");
    const res = await this.#fetch(url, { method, headers, body: body?.toString(), redirect: "manual" });
    this.#store(url.origin, res.headers);
    const text = await res.text();
    const locationHeader = res.headers.get("location");
    const isHtml = lower(res.headers.get("content-type") ?? "").includes("html");
    return {
      url,
      status: res.status,
      headers: res.headers,
      body: text,
      location: locationHeader === null ? undefined : new URL(locationHeader, url),
      document: parse(isHtml ? text : ""),
    };
  }

  #store(origin: string, headers: Headers) {
    for (const line of headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const jar = this.#jar.get(origin) ?? new Map<string, string>();
      this.#jar.set(origin, jar);
      const expired = /;\s*max-age=(0|-\d+)/i.test(line) || /;\s*expires=Thu, 01 Jan 1970/i.test(line);
      if (expired || value === "") jar.delete(name);
      else jar.set(name, value);
    }
  }

  /** Submits a form like a browser: all successful controls plus the chosen submitter. */
  async submit(form: Form, options: { values?: Readonly<Record<string, string>>; submitter?: FormControl } = {}): Promise<Page> {
    const params = new URLSearchParams();
    const overrides = new Map(Object.entries(options.values ?? {}));
    for (const field of form.fields) {
      if (field.name === "") continue;
      const value = overrides.get(field.name) ?? field.value;
      overrides.delete(field.name);
      params.append(field.name, value);
    }
    if (overrides.size > 0) {
      throw new Error(`form ${form.action.pathname} has no field(s) ${[...overrides.keys()].join(", ")}`);
    }
    if (options.submitter !== undefined && options.submitter.name !== "") {
      params.append(options.submitter.name, options.submitter.value);
    }
    if (form.method === "GET") {
      const target = new URL(form.action);
      target.search = params.toString();
      return this.navigate(target, { method: "GET" });
    }
    return this.navigate(form.action, { method: "POST", body: params });
  }
}

/** All forms on a page. */
export function formsOf(page: Page): Form[] {
  return page.document.querySelectorAll("form").map((element) => {
    const controls = element.querySelectorAll("input, button, select, textarea");
    const fields: FormControl[] = [];
    const submitters: FormControl[] = [];
    for (const el of controls) {
      if (isSubmitter(el)) {
        submitters.push(toControl(el, el.getAttribute("value") ?? ""));
        continue;
      }
      const value = controlValue(el);
      if (value !== undefined) fields.push(toControl(el, value));
    }
    return {
      page,
      element,
      method: lower(element.getAttribute("method")) === "post" ? "POST" : "GET",
      action: new URL(element.getAttribute("action") ?? "", page.url),
      fields,
      submitters,
    } satisfies Form;
  });
}

/** The one form that has a control matching `predicate`; throws with the page if none or several. */
export function findForm(page: Page, predicate: (c: FormControl) => boolean, what: string): Form {
  const matches = formsOf(page).filter((f) => [...f.fields, ...f.submitters].some(predicate));
  if (matches.length !== 1) {
    throw new Error(`expected exactly one ${what} form on ${page.url.pathname} (status ${page.status}), found ${matches.length}\n${snippet(page)}`);
  }
  return matches[0]!;
}

export function fieldByAutocomplete(form: Form, autocomplete: string): FormControl {
  const field = form.fields.find((f) => lower(f.autocomplete).split(/\s+/).includes(autocomplete));
  if (field === undefined) throw new Error(`no field with autocomplete="${autocomplete}" in form ${form.action.pathname}`);
  return field;
}

export function submitterFor(form: Form, name: string, value: string): FormControl {
  const button = form.submitters.find((s) => s.name === name && s.value === value);
  if (button === undefined) throw new Error(`no submit button ${name}=${value} in form ${form.action.pathname}`);
  return button;
}

/** Absolute href of the link matching a CSS selector. */
export function linkHref(page: Page, selector: string): URL {
  const a = page.document.querySelector(selector);
  const href = a?.getAttribute("href");
  if (href === undefined) throw new Error(`no link ${selector} on ${page.url.pathname}\n${snippet(page)}`);
  return new URL(href, page.url);
}

export function snippet(page: Page, max = 600): string {
  const text = page.body.replace(/\s+/g, " ").trim();
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

const expectStatus = (page: Page, status: number, step: string) => {
  if (page.status !== status) {
    throw new Error(`${step}: expected HTTP ${status} from ${page.url.href}, got ${page.status}\n${snippet(page)}`);
  }
};

export interface AuthorizationOptions {
  readonly mode: "signup" | "signin";
  readonly email: string;
  readonly password: string;
  readonly decision: "allow" | "deny";
  /** Reuse a browser (cookies, logging fetch); a fresh one otherwise. */
  readonly browser?: Browser;
  /** Called with each page on the way, e.g. to assert on the consent page. */
  readonly observe?: (step: "authorize" | "signup" | "consent" | "redirect", page: Page) => void;
}

/**
 * Drives a person's part of an OAuth authorization: opens the authorization URL,
 * signs up or signs in through the HTML forms, answers the consent form, and
 * returns the Location of the final redirect (back to the client's redirect URI).
 */
export async function completeAuthorization(authorizationUrl: string | URL, options: AuthorizationOptions): Promise<URL> {
  const browser = options.browser ?? new Browser();
  const observe = options.observe ?? (() => {});

  const signInPage = await browser.get(authorizationUrl);
  expectStatus(signInPage, 200, "GET authorization URL");
  observe("authorize", signInPage);

  let credentialsPage = signInPage;
  let passwordAutocomplete = "current-password";
  let emailAutocomplete = "username";
  if (options.mode === "signup") {
    credentialsPage = await browser.get(linkHref(signInPage, "#signup-link"));
    expectStatus(credentialsPage, 200, "GET sign-up page");
    observe("signup", credentialsPage);
    passwordAutocomplete = "new-password";
    emailAutocomplete = "email";
  }

  const form = findForm(credentialsPage, (c) => lower(c.autocomplete).includes(passwordAutocomplete), options.mode);
  const emailField = fieldByAutocomplete(form, emailAutocomplete);
  const passwordField = fieldByAutocomplete(form, passwordAutocomplete);
  const consentPage = await browser.submit(form, {
    values: { [emailField.name]: options.email, [passwordField.name]: options.password },
  });
  expectStatus(consentPage, 200, `POST ${options.mode} form`);
  observe("consent", consentPage);

  const consent = findForm(consentPage, (c) => c.name === "decision", "consent");
  const redirect = await browser.submit(consent, { submitter: submitterFor(consent, "decision", options.decision) });
  expectStatus(redirect, 302, "POST consent form");
  observe("redirect", redirect);
  if (redirect.location === undefined) throw new Error("consent answered 302 without a Location header");
  return redirect.location;
}
