// Named to run after issues.spec.ts, whose first test needs an empty install.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, issueWithRedactedLog, unique } from "./helpers";

/** The built-in analyst's triage down to a root cause, from the issue page. */
async function triageToRootCause(page: Page) {
  await page.getByTestId("open-triage").click();
  await hydrated(page);
  await page.getByTestId("start-triage").click();
  const input = page.getByTestId("triage-input");
  for (const [n, text] of [
    [2, "yes"],
    [3, "Password logins were open to the internet."],
  ] as const) {
    await input.fill(text);
    await page.getByTestId("send-message").click();
    await expect(page.getByTestId(`why-${n}`)).toHaveAttribute("data-state", "current");
  }
  await input.fill("root cause");
  await page.getByTestId("send-message").click();
  await expect(page.getByTestId("root-cause")).toBeVisible();
  await page.getByRole("link", { name: "Issue", exact: true }).click();
  await hydrated(page);
}

async function download(page: Page, testId: string) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.getByTestId(testId).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), path, bytes: readFileSync(path) };
}

test("an RCA after a triage: drafted, edited with a live preview, exported in every format", async ({ page }) => {
  test.slow();
  const title = unique("SSH lockouts docs");
  await issueWithRedactedLog(page, title);
  await triageToRootCause(page);

  // An action item, shown in the documents and on the dashboard.
  const card = page.getByTestId("documents");
  await expect(card.getByTestId("no-action-items")).toBeVisible();
  await card.getByTestId("action-description").fill("Turn off SSH password logins on every bastion");
  await card.getByTestId("action-owner").fill("Dana Ops");
  await card.getByTestId("action-due").fill("2026-12-15");
  await card.getByTestId("add-action").click();
  await expect(card.getByTestId("action-item")).toHaveCount(1);

  await card.getByTestId("doc-rca").getByTestId("draft-document").click();
  await expect(page).toHaveURL(/\/documents\/rca$/);
  await hydrated(page);
  const preview = page.getByTestId("doc-preview");
  await expect(preview.locator("h2", { hasText: "The 5 Whys" })).toBeVisible();
  await expect(preview.locator("table").first()).toContainText("Password logins were open to the internet.");
  await expect(preview).toContainText("Turn off SSH password logins on every bastion");
  await expect(page.getByTestId("save-state")).toHaveAttribute("data-state", "saved");

  // Edit the summary: the preview follows at once, the text saves itself.
  const source = page.getByTestId("doc-source");
  const text = await source.inputValue();
  const edited = text.replace("## Summary\n", "## Summary\n\n**Edited in the browser** — café, 東京.\n");
  expect(edited).not.toBe(text);
  await source.fill(edited);
  await expect(preview.locator("strong", { hasText: "Edited in the browser" })).toBeVisible();
  await expect(page.getByTestId("save-state")).toHaveAttribute("data-state", "dirty");
  await expect(page.getByTestId("save-state")).toHaveAttribute("data-state", "saved", { timeout: 10_000 });
  // Raw HTML is shown as text, never run.
  await source.fill(edited + "\n<img src=x onerror=alert(1)>\n");
  await expect(preview).toContainText("<img src=x onerror=alert(1)>");
  await expect(preview.locator("img")).toHaveCount(0);
  await source.fill(edited);
  await expect(page.getByTestId("save-state")).toHaveAttribute("data-state", "saved", { timeout: 10_000 });
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("doc-source")).toHaveValue(edited);
  await expect(page.getByTestId("version")).toHaveCount(2);

  // Markdown, PDF and DOCX downloads, each read back.
  const md = await download(page, "export-markdown");
  expect(md.name).toMatch(/^root-cause-analysis-.*\.md$/);
  expect(md.bytes.toString("utf8")).toContain("**Edited in the browser** — café, 東京.");

  const pdf = await download(page, "export-pdf");
  expect(pdf.name).toMatch(/\.pdf$/);
  expect(pdf.bytes.subarray(0, 5).toString()).toBe("%PDF-");
  const pdfText = execFileSync("pdftotext", ["-layout", pdf.path, "-"]).toString();
  expect(pdfText).toContain("The 5 Whys");
  expect(pdfText).toContain("Edited in the browser");
  expect(pdfText).toContain("東京");
  expect(pdfText).toMatch(/Page 1 of \d+/);

  const docx = await download(page, "export-docx");
  expect(docx.name).toMatch(/\.docx$/);
  const docxText = execFileSync("pandoc", ["-f", "docx", "-t", "markdown", docx.path]).toString();
  expect(docxText).toMatch(/^#+ The 5 Whys/m);
  expect(docxText).toContain("Edited in the browser");
  expect(docxText).toContain("Turn off SSH password logins on every bastion");

  // Each export is on record, on the page and on the issue's timeline.
  await page.reload();
  await expect(page.getByTestId("exports").locator("tbody tr")).toHaveCount(3);
  await page.getByRole("link", { name: new RegExp(title) }).click();
  await page.getByRole("link", { name: "Full timeline with details" }).click();
  await expect(page.locator('[data-testid=timeline-event][data-type=document_exported]')).toHaveCount(3);
  await expect(page.getByTestId("full-timeline")).toContainText("sha256");

  await page.goto("/");
  await expect(page.getByTestId("open-action-items")).toContainText("Turn off SSH password logins on every bastion");
});
