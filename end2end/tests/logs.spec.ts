import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

// A realistic sshd brute-force log with planted PII (a copy of
// shared/samples/07): 317 lines, so two pages in the viewer.
const SAMPLE = join(__dirname, "..", "fixtures", "07_sshd_bruteforce_lockout.log");

async function fileIssue(page: Page, title: string) {
  await signIn(page, "/issues/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("high");
  await page.getByLabel("Domain").selectOption("linux");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
}

test("upload a log, review findings, keep one value, apply and get the redacted copy", async ({ page }) => {
  // Many round trips (upload, scan, decisions, apply, download): allow for a busy CI machine.
  test.slow();
  await fileIssue(page, unique("SSH brute force on jump host"));
  await hydrated(page);
  await expect(page.getByTestId("logs-empty")).toBeVisible();

  await page.getByTestId("upload-input").setInputFiles(SAMPLE);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await expect(page.getByTestId("upload-outcome")).toContainText("1 file(s) uploaded");
  // The timeline shows the upload without a reload.
  await expect(page.getByTestId("timeline")).toContainText("Log uploaded");
  // The list follows the background scan on its own.
  const row = page.getByTestId("log-row").filter({ hasText: "07_sshd_bruteforce_lockout.log" });
  await expect(row).toHaveAttribute("data-state", "review");
  await row.getByRole("link", { name: "Review and redact" }).click();

  await expect(page.getByTestId("log-name")).toHaveText("07_sshd_bruteforce_lockout.log");
  await hydrated(page);
  await expect(page.getByTestId("page-position")).toHaveText("Page 1 of 2");
  await expect(page.getByTestId("log-view").locator("mark[data-pii=IPV4]").first()).toBeVisible();

  // Keep the most frequent address (every occurrence); redact the rest.
  const ipv4 = page.locator('[data-testid=type-group][data-type="IPV4"]');
  const rows = ipv4.getByTestId("value-row");
  const kept = (await rows.nth(0).locator("code").innerText()).trim();
  const redacted = (await rows.nth(1).locator("code").innerText()).trim();
  expect(kept).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
  await rows.nth(0).getByTestId("value-rejected").click();
  await expect(ipv4.locator("summary")).toContainText(/\d+ keep/);

  // The preview shows placeholders beside the original, and the kept value.
  await page.getByTestId("tab-diff").click();
  const diff = page.getByTestId("diff-view");
  await expect(diff).toBeVisible();
  await expect(diff.locator("tbody tr td:nth-child(3)").filter({ hasText: "[HOSTNAME_1]" }).first()).toBeVisible();
  await expect(diff.locator("td:nth-child(3)").filter({ hasText: kept }).first()).toBeVisible();

  await page.getByTestId("apply-redaction").click();
  await expect(page.getByTestId("redacted-banner")).toBeVisible();
  await expect(page.getByTestId("log-state")).toContainText("Redacted");
  const view = page.getByTestId("redacted-view");
  await expect(view).toContainText("[IPV4_");
  await expect(view).toContainText(kept);
  await expect(view).not.toContainText(redacted);
  await expect(view).not.toContainText("jump-5.ops.acme.internal");

  // The download is the stored redacted copy.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByTestId("download-redacted").click(),
  ]);
  expect(download.suggestedFilename()).toBe("07_sshd_bruteforce_lockout.log.redacted.txt");
  const text = readFileSync(await download.path(), "utf-8");
  expect(text.split("\n").length).toBe(readFileSync(SAMPLE, "utf-8").split("\n").length);
  expect(text).toContain(kept);
  expect(text).not.toContain(redacted);
  expect(text).not.toContain("okowalski");
  expect(text).not.toContain("olivia.r@acme-corp.com");

  // The issue's timeline records both steps.
  await page.getByRole("link", { name: "Issue", exact: true }).click();
  await expect(page.getByTestId("timeline")).toContainText("Log uploaded");
  await expect(page.getByTestId("timeline")).toContainText("Log redacted");
});

test("a binary file is refused with a reason and the text file beside it still lands", async ({ page }) => {
  await fileIssue(page, unique("Upload refusal"));
  await hydrated(page);
  await page.getByTestId("upload-input").setInputFiles([
    { name: "screenshot.png", mimeType: "image/png", buffer: Buffer.from("89504e470d0a1a0a0000000d49484452", "hex") },
    { name: "app.log", mimeType: "text/plain", buffer: Buffer.from("ERROR db timeout for alice@example.com\n") },
  ]);
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  const outcome = page.getByTestId("upload-outcome");
  await expect(outcome).toContainText("1 file(s) uploaded");
  await expect(outcome).toContainText("screenshot.png");
  await expect(outcome).toContainText("This is an image, not a log. Add it under Images");
  await expect(page.getByTestId("log-row").filter({ hasText: "app.log" })).toHaveAttribute("data-state", "review");
});

test("@ssr logs upload and review work without JavaScript", async ({ page }) => {
  await fileIssue(page, unique("No-JS upload"));
  await page.getByTestId("upload-input").setInputFiles({
    name: "auth.log",
    mimeType: "text/plain",
    buffer: Buffer.from("Jan 1 host sshd[1]: Accepted password for okowalski from 203.0.113.9 port 22\n"),
  });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  if (test.info().project.name === "no-js") {
    // The plain form post comes back to the issue with the outcome.
    await expect(page).toHaveURL(/uploaded=1/);
  }
  await expect(page.getByRole("status").filter({ hasText: "1 file(s) uploaded" })).toBeVisible();
  const row = page.getByTestId("log-row").filter({ hasText: "auth.log" });
  await expect(row).toBeVisible();
  // Scanning is quick; reload until it is done (no script to poll).
  await expect(async () => {
    await page.reload();
    await expect(row).toHaveAttribute("data-state", "review", { timeout: 500 });
  }).toPass({ timeout: 10_000 });
  await row.getByRole("link", { name: "Review and redact" }).click();
  await expect(page.getByTestId("log-view")).toContainText("okowalski");
  await page.getByTestId("apply-redaction").click();
  await expect(page.getByTestId("redacted-view")).toContainText("[USERNAME_1]");
  await expect(page.getByTestId("redacted-view")).not.toContainText("203.0.113.9");
});

test("PII settings refuse a broken pattern and save a good one", async ({ page }) => {
  await signIn(page, "/settings");
  await hydrated(page);
  const form = page.getByTestId("pii-settings");
  const patterns = form.getByLabel("Custom patterns: name | TYPE | regex");
  await patterns.fill("ticket | USERNAME | INC-(");
  await form.getByRole("button", { name: "Save PII settings" }).click();
  await expect(page.getByRole("alert")).toContainText("ticket");
  await patterns.fill("ticket | USERNAME | INC-[0-9]{4}");
  await form.getByRole("button", { name: "Save PII settings" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved" })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("pii-settings").getByLabel("Custom patterns: name | TYPE | regex")).toHaveValue(
    "ticket | USERNAME | INC-[0-9]{4}",
  );
});
