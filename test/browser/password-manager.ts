// What a password manager (and the browser's own autofill) reads off a page: the forms as the
// DOM resolves them (form.method, form.action absolute, input.autocomplete normalized), the
// fields in document order, their labels, and anything that hides credentials from it (a
// password field outside a form, autocomplete="off").

import type { Page } from "playwright-core";

export interface FieldView {
  readonly type: string;
  readonly name: string;
  /** The IDL attribute: the normalized autofill detail tokens, "" when absent. */
  readonly autocomplete: string;
  readonly labels: readonly string[];
}

export interface FormView {
  /** Lower-case, as the DOM reports it ("get" when the attribute is missing). */
  readonly method: string;
  /** Resolved against the page URL, as the browser will submit it. */
  readonly action: string;
  /** Typable controls in tree order (no hidden inputs, no buttons). */
  readonly fields: readonly FieldView[];
  /** Visible text of the submit buttons. */
  readonly buttons: readonly string[];
}

export interface PageFormsView {
  readonly origin: string;
  readonly path: string;
  readonly forms: readonly FormView[];
  readonly passwordFieldsOutsideForms: number;
  /** Elements (forms or fields) that switch autofill off. */
  readonly autocompleteOff: readonly string[];
}

export const formsView = (page: Page): Promise<PageFormsView> =>
  page.evaluate(() => {
    const typable = (el: Element): el is HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement =>
      (el instanceof HTMLInputElement && !["hidden", "submit", "button", "reset", "image"].includes(el.type)) ||
      el instanceof HTMLTextAreaElement ||
      el instanceof HTMLSelectElement;
    const forms = [...document.forms].map((form) => ({
      method: form.method,
      action: form.action,
      fields: [...form.elements].filter(typable).map((el) => ({
        type: el instanceof HTMLInputElement ? el.type : el.tagName.toLowerCase(),
        name: el.name,
        autocomplete: el.autocomplete,
        labels: [...(el.labels ?? [])].map((l) => l.textContent?.trim() ?? ""),
      })),
      buttons: [...form.elements]
        .filter((el) => (el instanceof HTMLButtonElement && el.type === "submit") || (el instanceof HTMLInputElement && el.type === "submit"))
        .map((el) => (el instanceof HTMLInputElement ? el.value : (el.textContent?.trim() ?? ""))),
    }));
    const passwordFieldsOutsideForms = [...document.querySelectorAll("input[type=password]")].filter(
      (el) => (el as HTMLInputElement).form === null,
    ).length;
    const autocompleteOff = [...document.querySelectorAll("[autocomplete]")]
      .filter((el) => el.getAttribute("autocomplete")?.trim().toLowerCase() === "off")
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}`);
    return { origin: location.origin, path: location.pathname, forms, passwordFieldsOutsideForms, autocompleteOff };
  });
