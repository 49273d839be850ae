import { expect, type Page } from "@playwright/test";
import { TOKEN } from "../playwright.config";

/** Opens the start-up link, which trades the token for a session cookie. */
export async function signIn(page: Page, path = "/") {
  const sep = path.includes("?") ? "&" : "?";
  await page.goto(`${path}${sep}token=${TOKEN}`);
  await expect(page).not.toHaveURL(/token=/);
}

/** Waits until the Wasm app has hydrated the page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

export function unique(label: string) {
  return `${label} ${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}
