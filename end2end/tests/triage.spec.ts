import { join } from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

const SAMPLE = join(__dirname, "..", "fixtures", "07_sshd_bruteforce_lockout.log");

async function issueWithRedactedLog(page: Page, title: string) {
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

test("a full triage with the built-in analyst, from issue to root cause", async ({ page }) => {
  test.slow();
  await issueWithRedactedLog(page, unique("SSH lockouts on bastion"));
  await page.getByTestId("open-triage").click();
  await expect(page).toHaveURL(/\/triage$/);
  await hydrated(page);
  await expect(page.getByTestId("triage-provider")).toHaveText("Built-in analyst");
  await expect(page.getByTestId("triage-empty")).toBeVisible();
  await expect(page.getByTestId("why-1")).toHaveAttribute("data-state", "current");
  await expect(page.getByTestId("evidence-files")).toContainText("07_sshd_bruteforce_lockout.log");

  await page.getByTestId("start-triage").click();
  const replies = page.locator('[data-testid=message][data-role=assistant]');
  await expect(replies).toHaveCount(1);
  await expect(replies.first()).toContainText("Built-in analyst");
  await expect(replies.first()).toContainText("07_sshd_bruteforce_lockout.log:");

  // Accept the analyst's candidates for the first two whys, then answer.
  const input = page.getByTestId("triage-input");
  for (const [n, text] of [
    [2, "yes"],
    [3, "yes"],
    [4, "The jump host accepted password logins from the internet."],
  ] as const) {
    await input.fill(text);
    await input.press("Tab");
    await page.getByTestId("send-message").click();
    await expect(page.getByTestId(`why-${n}`)).toHaveAttribute("data-state", "current");
    await expect(input).toHaveValue("");
  }
  await expect(page.getByTestId("why-step")).toHaveCount(3);
  await expect(page.getByTestId("why-1")).toHaveAttribute("data-state", "done");
  await expect(page.getByTestId("why-steps")).toContainText("07_sshd_bruteforce_lockout.log:");

  await input.fill("root cause");
  await page.getByTestId("send-message").click();
  await expect(page.getByTestId("root-cause")).toHaveText("The jump host accepted password logins from the internet.");
  await expect(page.getByTestId("why-6")).toHaveAttribute("data-state", "current");

  // It is all still there after a reload, and on the issue's timeline.
  await page.reload();
  await expect(page.getByTestId("why-step")).toHaveCount(3);
  await expect(page.getByTestId("root-cause")).toBeVisible();
  await page.getByRole("link", { name: "Issue", exact: true }).click();
  await expect(page.getByText("Root cause identified").first()).toBeVisible();
});
