import { expect, test } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

test.describe.configure({ mode: "serial" });

test("a new install shows a clear empty state", async ({ page }) => {
  await signIn(page, "/");
  await expect(page.getByRole("heading", { name: "No issues yet" })).toBeVisible();
  await expect(page.getByRole("link", { name: "File your first issue" })).toBeVisible();
});

test("an issue goes from filed to resolved to deleted", async ({ page }) => {
  const title = unique("Checkout API returns 502");
  await signIn(page, "/issues/new");
  await hydrated(page);

  // A click-free proof of hydration: the counter follows typing.
  await page.getByLabel("Title").fill(title);
  await expect(page.getByTestId("title-counter")).toHaveText(`${title.length}/200`);

  // The server validates too; an empty title is refused with a field message.
  await page.getByLabel("Title").fill("   ");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page.locator("#title-error")).toHaveText("A title is required.");

  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("critical");
  await page.getByLabel("Domain").selectOption("network");
  await page.getByLabel("Description").fill("EU customers get 502 from the checkout API since 09:12 UTC.");
  await page.getByLabel("Tags").fill("checkout, nginx");
  await page.getByRole("button", { name: "File issue" }).click();

  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("issue-title")).toHaveText(title);
  await expect(page.getByTestId("timeline")).toContainText("Triage started");

  // On the dashboard.
  await page.getByRole("link", { name: "Dashboard" }).click();
  await expect(page.getByTestId("stats")).toContainText("Open · Critical");
  await expect(page.getByTestId("issue-rows")).toContainText(title);

  // In search, by prefix, with the match highlighted.
  await page.getByRole("link", { name: "Issues", exact: true }).click();
  await page.getByRole("searchbox", { name: "Search" }).fill("checko ngin");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/q=checko\+ngin|q=checko%20ngin/);
  await expect(page.getByTestId("issue-rows")).toContainText(title);
  await expect(page.locator(".snippet mark").first()).toBeVisible();

  // Edit.
  await page.getByRole("link", { name: title }).click();
  await hydrated(page);
  const edited = `${title} (EU only)`;
  await page.getByLabel("Title").fill(edited);
  await page.getByLabel("Assigned to").fill("payments on-call");
  await page.getByRole("button", { name: "Save changes" }).click();
  await expect(page.getByTestId("issue-title")).toHaveText(edited);
  await expect(page.getByTestId("timeline")).toContainText("Edited title, assigned to");

  // Resolve.
  await page.getByRole("button", { name: "Mark resolved" }).click();
  await expect(page.getByTestId("issue-status")).toHaveText("Resolved");
  await expect(page.getByTestId("resolved-at")).toBeVisible();
  await expect(page.getByTestId("timeline")).toContainText("Status changed from Open to Resolved");

  // Delete, after confirming.
  await page.getByText("Delete issue…").click();
  await page.getByTestId("confirm-delete").click();
  await expect(page).toHaveURL(/\/issues$/);
  await page.getByRole("searchbox", { name: "Search" }).fill(edited);
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("heading", { name: "No matching issues" })).toBeVisible();
});

test("the theme toggle switches at once and is remembered", async ({ page }) => {
  await signIn(page, "/");
  await hydrated(page);
  const html = page.locator("html");
  const before = await html.getAttribute("data-theme");
  await page.getByTestId("theme-toggle").click();
  const expected = before === "dark" ? "light" : "dark";
  await expect(html).toHaveAttribute("data-theme", expected);
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", expected);
});

test("without the token nothing is shown", async ({ browser }) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const response = await page.goto("/issues");
  expect(response?.status()).toBe(401);
  await expect(page.locator("body")).toContainText("Not signed in");
  await context.close();
});

test("the security page shows the cipher and the audit log", async ({ page }) => {
  await signIn(page, "/security");
  await expect(page.getByTestId("encryption")).toContainText("PBKDF2_HMAC_SHA512 with 256000 iterations");
  await expect(page.getByTestId("audit")).toContainText("issue_deleted");
});
