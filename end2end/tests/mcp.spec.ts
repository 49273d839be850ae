import { join } from "node:path";
import { expect, test } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

// The reference MCP server, installed from npm as a dev dependency, run
// over stdio by TFTSR with this Node.
const EVERYTHING = join(
  __dirname,
  "..",
  "node_modules",
  "@modelcontextprotocol",
  "server-everything",
  "dist",
  "index.js",
);

test("an MCP server is added, discovered, and its tools run from a triage with redacted results", async ({ page }) => {
  test.slow();
  await signIn(page, "/settings");
  await hydrated(page);
  await page.getByTestId("mcp-settings-link").click();
  await expect(page).toHaveURL(/\/settings\/mcp$/);
  await hydrated(page);
  await expect(page.getByTestId("mcp-empty")).toBeVisible();

  // A bad form is refused field by field, and nothing is saved.
  const form = page.getByTestId("mcp-add").getByTestId("mcp-form");
  await form.getByTestId("mcp-name").fill("Everything");
  await form.getByTestId("mcp-transport").selectOption("stdio");
  await form.getByTestId("mcp-save").click();
  await expect(form.locator(".field-error").first()).toBeVisible();
  await expect(page.getByTestId("mcp-empty")).toBeVisible();

  // The reference server, with an environment that leaks an address.
  await form.getByTestId("mcp-command").fill(process.execPath);
  await form.getByTestId("mcp-args").fill(EVERYTHING);
  await form.getByLabel("Environment (NAME=value per line)").fill(
    "ONCALL_CONTACT=oncall.lead@corp-example.com\nPAGER_GATEWAY=198.51.100.44",
  );
  await form.getByTestId("mcp-save").click();
  const card = page.getByTestId("mcp-server").filter({ hasText: "Everything" });
  await expect(card).toHaveAttribute("data-status", "connected", { timeout: 30_000 });
  await expect(card.getByTestId("mcp-status")).toHaveText("connected");
  await expect(card.getByTestId("mcp-counts")).toContainText("tools");
  await card.getByTestId("mcp-tools").locator("summary").click();
  await expect(card.getByTestId("mcp-tool").filter({ hasText: "echo" })).toBeVisible();
  await expect(card.getByTestId("mcp-tool").filter({ hasText: "get-env" })).toContainText("read-only");

  // "Discover now" again reports the same.
  await card.getByTestId("mcp-discover").click();
  await expect(card.getByTestId("mcp-status")).toHaveText("connected");

  // A triage: run tools by hand.
  await page.goto("/issues/new");
  await page.getByLabel("Title").fill(unique("Pager storm"));
  await page.getByLabel("Severity").selectOption("high");
  await page.getByLabel("Domain").selectOption("linux");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
  await page.getByTestId("open-triage").click();
  await hydrated(page);
  await page.getByTestId("tools-panel").locator("summary").click();
  const echo = page.locator('[data-testid=tool][data-key="everything__echo"]');
  await echo.locator("summary").click();
  await echo.getByTestId("arg-message").fill("hello from the triage");
  await echo.getByTestId("run-tool").click();
  const calls = page.getByTestId("my-calls").getByTestId("mcp-call");
  await expect(calls.first().getByTestId("mcp-result")).toContainText("hello from the triage");
  await expect(calls.first()).toHaveAttribute("data-status", "done");

  // Unreviewed personal data typed into a field never leaves. (The panel
  // and its forms stay open while results come in.)
  await echo.getByTestId("arg-message").fill("mail jane.roe@example.com");
  await echo.getByTestId("run-tool").click();
  const blocked = page.getByTestId("my-calls").getByTestId("mcp-call").first();
  await expect(blocked).toHaveAttribute("data-status", "failed");
  await expect(blocked.getByTestId("mcp-call-error")).toContainText("Not sent");
  await expect(blocked).not.toContainText("jane.roe@example.com");

  // A result carrying personal data is redacted before anyone sees it.
  const env = page.locator('[data-testid=tool][data-key="everything__get-env"]');
  await env.locator("summary").click();
  await env.getByTestId("run-tool").click();
  const envCall = page.getByTestId("my-calls").getByTestId("mcp-call").first();
  await expect(envCall.getByTestId("mcp-result")).toContainText("ONCALL_CONTACT");
  await expect(envCall.getByTestId("mcp-result")).toContainText("[EMAIL_");
  await expect(envCall.getByTestId("mcp-result")).toContainText("[IPV4_");
  await expect(page.locator("body")).not.toContainText("oncall.lead@corp-example.com");
  await expect(page.locator("body")).not.toContainText("198.51.100.44");

  // Attached as evidence: the conversation gets the redacted text.
  await envCall.getByTestId("mcp-attach").click();
  const mine = page.locator("[data-testid=message][data-role=user]");
  await expect(mine.first()).toContainText("Evidence from the MCP tool `get-env`");
  await expect(mine.first()).toContainText("[EMAIL_");
  await expect(page.locator("[data-testid=message][data-role=assistant]").first()).toBeVisible();

  // The audit log lists the calls, and the timeline the tool runs.
  await page.goto("/security");
  await expect(page.locator("body")).toContainText("mcp_tool_called");

  // Removing the server stops offering its tools.
  await page.goto("/settings/mcp");
  await hydrated(page);
  await page.getByTestId("mcp-server").filter({ hasText: "Everything" }).getByTestId("mcp-delete").click();
  await expect(page.getByTestId("mcp-empty")).toBeVisible();
});

test("a server that cannot start shows its error plainly", async ({ page }) => {
  await signIn(page, "/settings/mcp");
  await hydrated(page);
  const form = page.getByTestId("mcp-add").getByTestId("mcp-form");
  await form.getByTestId("mcp-name").fill("Broken");
  await form.getByTestId("mcp-command").fill("/nonexistent/mcp-server");
  await form.getByTestId("mcp-save").click();
  const card = page.getByTestId("mcp-server").filter({ hasText: "Broken" });
  await expect(card).toHaveAttribute("data-status", "unreachable", { timeout: 20_000 });
  await expect(card.getByTestId("mcp-error")).toBeVisible();
  await card.getByTestId("mcp-delete").click();
  await expect(page.getByTestId("mcp-empty")).toBeVisible();
});
