import { expect, test } from "@playwright/test";
import { signIn, unique } from "./helpers";

// Runs in both projects; in "no-js" the browser has JavaScript disabled, so
// everything here must work from server-rendered HTML and plain forms.

test("@ssr list, search and detail render and work without JavaScript", async ({ page }) => {
  const title = unique("Kubelet evicting pods on node-7");
  await signIn(page, "/issues/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("high");
  await page.getByLabel("Domain").selectOption("k8s");
  await page.getByLabel("Description").fill("DiskPressure on node-7; pods evicted every few minutes.");
  await page.getByRole("button", { name: "File issue" }).click();

  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId("issue-title")).toHaveText(title);
  await expect(page.getByTestId("timeline")).toContainText("Triage started");
  const detailUrl = page.url();

  await page.goto("/issues");
  await expect(page.getByTestId("issue-rows")).toContainText(title);

  await page.getByRole("searchbox", { name: "Search" }).fill("diskpress");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByTestId("issue-rows")).toContainText(title);
  await expect(page.locator(".snippet mark").first()).toHaveText(/DiskPressure/i);

  await page.goto(detailUrl);
  await expect(page.getByTestId("issue-title")).toHaveText(title);
  await expect(page.getByLabel("Title")).toHaveValue(title);
});
