import { join } from "node:path";
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

const SAMPLE = join(__dirname, "..", "fixtures", "07_sshd_bruteforce_lockout.log");

/** Files an issue, uploads the sshd sample and applies its redaction;
 * ends on the issue page. */
export async function issueWithRedactedLog(page: Page, title: string) {
  await signIn(page, "/issues/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("high");
  await page.getByLabel("Domain").selectOption("linux");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
  await hydrated(page);
  await page.getByTestId("upload-input").setInputFiles(SAMPLE);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  const row = page.getByTestId("log-row").filter({ hasText: "07_sshd_bruteforce_lockout.log" });
  await expect(row).toHaveAttribute("data-state", "review");
  await row.getByRole("link", { name: "Review and redact" }).click();
  await hydrated(page);
  await page.getByTestId("apply-redaction").click();
  await expect(page.getByTestId("redacted-banner")).toBeVisible();
  await page.getByRole("link", { name: "Issue", exact: true }).click();
}

