// Settings → Integrations: field errors, a write-only token, and "Test
// connection" against small local fakes of Confluence and ServiceNow that
// check the Authorization header and answer as the real APIs do.
//
// Runs before ssr.spec.ts and triage.spec.ts in the same database: every
// test leaves its service disabled, without a token, auto-create off.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test, type Locator, type Page } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

type Seen = { method: string; url: string; auth: string | undefined; accept: string | undefined };
type Reply = { status: number; body: unknown };

/** A local HTTP server answering JSON from `reply`; records every request. */
async function fakeRemote(reply: (req: http.IncomingMessage) => Reply) {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, accept: req.headers.accept });
      const { status, body } = reply(req);
      res.writeHead(status, { "content-type": "application/json;charset=UTF-8" });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { port, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const basic = (user: string, secret: string) => `Basic ${Buffer.from(`${user}:${secret}`).toString("base64")}`;
const secret = (label: string) => `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

async function openIntegrations(page: Page) {
  await signIn(page, "/settings");
  await hydrated(page);
  await page.getByTestId("integrations-link").click();
  await expect(page).toHaveURL(/\/settings\/integrations$/);
  await hydrated(page);
}

/** The server-rendered page and its hydration data, as a browser gets them. */
async function rawHtml(page: Page) {
  const res = await page.request.get("/settings/integrations");
  expect(res.status()).toBe(200);
  return res.text();
}

async function save(page: Page, card: Locator, key: string) {
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/save_integration")),
    card.getByTestId(`${key}-save`).click(),
  ]);
  expect(res.status()).toBe(200);
  await expect(card.getByText("Saved", { exact: true })).toBeVisible();
  await expect(card.getByTestId(`${key}-save`)).toHaveText("Save");
}

/** The audit log's `integration_saved` entries, newest first. */
async function savedEntries(page: Page): Promise<{ entity_id: string; details: Record<string, unknown> }[]> {
  const res = await page.request.get("/api/audit/export?format=json&action=integration_saved");
  expect(res.status()).toBe(200);
  return res.json();
}

/** Disabled, token removed, auto-create off, saved through the server
 * function, whatever state a failed test left the form in. */
async function reset(page: Page, service: string, fields: Record<string, string>) {
  const res = await page.request.post("/api/save_integration", {
    headers: { Accept: "application/json" },
    form: { "form[service]": service, "form[clear_token]": "1", ...fields },
  });
  expect(res.status(), await res.text()).toBe(200);
  const view = await res.json();
  expect(view).toMatchObject({ enabled: false, token_set: false, auto_create_on_resolve: false });
}

test("a bad integration form is refused field by field, and nothing is saved", async ({ page }) => {
  await openIntegrations(page);
  const card = page.getByTestId("integration-confluence");
  await expect(card.getByRole("heading", { name: /Confluence/ })).toBeVisible();
  const before = await card.getByTestId("confluence-base-url").inputValue();
  const savesBefore = (await savedEntries(page)).length;

  await card.getByTestId("confluence-base-url").fill("not a url");
  await card.getByTestId("confluence-space-key").fill("");
  await card.getByTestId("confluence-username").fill("");
  await card.getByTestId("confluence-token").fill("");
  if (await card.getByTestId("confluence-clear-token").count()) {
    await card.getByTestId("confluence-clear-token").check();
  }
  await card.getByTestId("confluence-enabled").check();
  await card.getByTestId("confluence-save").click();
  await expect(card.locator("#confluence-base_url-error")).toHaveText(
    "The address must start with https:// (or http:// for a local test server).",
  );
  await expect(card.locator("#confluence-space_key-error")).toHaveText(
    "Enter the key of the space to publish to, e.g. OPS.",
  );
  await expect(card.locator("#confluence-token-error")).toHaveText("Confluence needs a token before it can be enabled.");
  await expect(card.getByText("Saved", { exact: true })).toHaveCount(0);

  // Other mistakes, other messages; the previous ones go away.
  await card.getByTestId("confluence-base-url").fill("https://bot:hunter2@wiki.example.com");
  await card.getByTestId("confluence-space-key").fill("OPS TEAM");
  await card.getByTestId("confluence-token").fill("a-token");
  await card.getByTestId("confluence-save").click();
  await expect(card.locator("#confluence-base_url-error")).toHaveText(
    "Put the user name and token in their own fields, not in the address.",
  );
  await expect(card.locator("#confluence-space_key-error")).toHaveText(
    "A space key is letters and digits (a personal space starts with ~).",
  );
  await expect(card.locator("#confluence-token-error")).toHaveCount(0);

  // ServiceNow needs a user name; Azure DevOps a project.
  const snow = page.getByTestId("integration-servicenow");
  await snow.getByTestId("servicenow-base-url").fill("https://acme.service-now.com");
  await snow.getByTestId("servicenow-username").fill("");
  await snow.getByTestId("servicenow-save").click();
  await expect(snow.locator("#servicenow-username-error")).toHaveText(
    "ServiceNow needs the user name the token (password) belongs to.",
  );
  const ado = page.getByTestId("integration-azure_devops");
  await ado.getByTestId("azure_devops-base-url").fill("https://dev.azure.com/acme");
  await ado.getByTestId("azure_devops-project").fill("");
  await ado.getByTestId("azure_devops-save").click();
  await expect(ado.locator("#azure_devops-project-error")).toHaveText("Enter the project the work items go to.");

  // Nothing was stored.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("confluence-base-url")).toHaveValue(before);
  await expect(page.getByTestId("integration-confluence").getByText("enabled", { exact: true })).toHaveCount(0);
  expect(await savedEntries(page)).toHaveLength(savesBefore);
});

test("Confluence: the token is write-only, Test connection sends it as Basic and reports a refusal plainly", async ({ page }) => {
  const user = "ops.bot@example.com";
  const good = secret("confluence-api-token");
  const bad = secret("revoked-token");
  const fake = await fakeRemote((req) => {
    if (req.url !== "/wiki/rest/api/space/OPS") {
      return { status: 404, body: { statusCode: 404, message: "null" } };
    }
    if (req.headers.authorization !== basic(user, good)) {
      return {
        status: 401,
        body: {
          statusCode: 401,
          message: "Client must be authenticated to access this resource.",
          data: { authorized: false, valid: true, errors: [], successful: false },
        },
      };
    }
    return {
      status: 200,
      body: { id: 98305, key: "OPS", name: "Operations", type: "global", _links: { webui: "/spaces/OPS" } },
    };
  });
  await openIntegrations(page);
  try {
    const card = page.getByTestId("integration-confluence");
    await card.getByTestId("confluence-base-url").fill(`http://127.0.0.1:${fake.port}/wiki/`);
    await card.getByTestId("confluence-space-key").fill("OPS");
    await card.getByTestId("confluence-username").fill(user);
    await card.getByTestId("confluence-token").fill(good);
    await card.getByTestId("confluence-enabled").check();
    await save(page, card, "confluence");
    await expect(card.getByTestId("confluence-token-state")).toHaveText("Token: stored (set). Type a new one to replace it.");
    await expect(card.getByRole("heading", { name: /Confluence/ })).toContainText("enabled");
    expect(await page.content()).not.toContain(good);

    // After a reload: the settings, the trailing slash gone, never the token.
    await page.reload();
    await hydrated(page);
    await expect(card.getByTestId("confluence-base-url")).toHaveValue(`http://127.0.0.1:${fake.port}/wiki`);
    await expect(card.getByTestId("confluence-username")).toHaveValue(user);
    await expect(card.getByTestId("confluence-token")).toHaveValue("");
    await expect(card.getByTestId("confluence-token-state")).toContainText("stored (set)");
    await expect(card.getByTestId("confluence-enabled")).toBeChecked();
    expect(await page.content()).not.toContain(good);
    const html = await rawHtml(page);
    expect(html).toContain("stored (set)");
    expect(html).not.toContain(good);
    expect(html).not.toContain(basic(user, good).slice(6));

    // Test connection: one GET of the space, Basic e-mail:token.
    await card.getByTestId("confluence-test").click();
    const result = card.getByTestId("confluence-test-result");
    await expect(result).toHaveAttribute("data-outcome", "ok");
    await expect(result).toHaveText(
      new RegExp(`^Connection works\\. Reached space “Operations” \\(OPS\\) at 127\\.0\\.0\\.1:${fake.port}\\. \\(\\d+ ms\\)$`),
    );
    expect(fake.seen).toHaveLength(1);
    expect(fake.seen[0]).toEqual({
      method: "GET",
      url: "/wiki/rest/api/space/OPS",
      auth: basic(user, good),
      accept: "application/json",
    });

    // A replaced token the remote refuses: a clear message, no token.
    await card.getByTestId("confluence-token").fill(bad);
    await save(page, card, "confluence");
    await card.getByTestId("confluence-test").click();
    await expect(result).toHaveAttribute("data-outcome", "auth_refused");
    await expect(result).toContainText("Authentication refused.");
    await expect(result).toContainText("Confluence refused the credentials (401). Check the user name and token in Settings → Integrations.");
    await expect(result).toContainText("Confluence said: “Client must be authenticated to access this resource.”");
    expect(fake.seen.at(-1)!.auth).toBe(basic(user, bad));
    const page1 = await page.content();
    expect(page1).not.toContain(bad);
    expect(page1).not.toContain(good);

    // The audit log says the token was replaced, never what it is.
    const entries = await savedEntries(page);
    expect(entries[0]).toMatchObject({ entity_id: "confluence", details: { token: "replaced", enabled: true } });
    const auditText = JSON.stringify(entries);
    expect(auditText).not.toContain(good);
    expect(auditText).not.toContain(bad);

    // Removing the token and disabling: the test says what is missing.
    await card.getByTestId("confluence-clear-token").check();
    await card.getByTestId("confluence-enabled").uncheck();
    await save(page, card, "confluence");
    await expect(card.getByTestId("confluence-token-state")).toHaveText("Token (not set)");
    await expect(card.getByRole("heading", { name: /Confluence/ })).not.toContainText("enabled");
    const calls = fake.seen.length;
    await card.getByTestId("confluence-test").click();
    await expect(card.getByRole("alert")).toContainText("Confluence has no token stored: add one in Settings → Integrations.");
    expect(fake.seen).toHaveLength(calls);
  } finally {
    await reset(page, "confluence", {
      "form[base_url]": `http://127.0.0.1:${fake.port}/wiki`,
      "form[space_key]": "OPS",
    });
    await fake.close();
  }
});

test("ServiceNow: Test connection reads the incident table with Basic user:password; a refusal that echoes credentials is scrubbed", async ({ page }) => {
  const user = "tftsr.integration";
  const password = secret("snow-password");
  let echo = false;
  const fake = await fakeRemote((req) => {
    if (req.url !== "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id") {
      return { status: 400, body: { error: { message: "Invalid table", detail: null }, status: "failure" } };
    }
    if (echo || req.headers.authorization !== basic(user, password)) {
      // A careless proxy in front of ServiceNow quoting what it got.
      return {
        status: 401,
        body: {
          error: {
            message: "User Not Authenticated",
            detail: `Required to provide Auth information (got ${req.headers.authorization}; password ${password})`,
          },
          status: "failure",
        },
      };
    }
    return { status: 200, body: { result: [{ sys_id: "9d385017c611228701d22104cc95c371" }] } };
  });
  await openIntegrations(page);
  try {
    const card = page.getByTestId("integration-servicenow");
    await card.getByTestId("servicenow-base-url").fill(`http://127.0.0.1:${fake.port}`);
    await card.getByTestId("servicenow-username").fill(user);
    await card.getByTestId("servicenow-token").fill(password);
    await card.getByTestId("servicenow-auto").check();
    await card.getByTestId("servicenow-enabled").check();
    await save(page, card, "servicenow");
    await expect(card.getByTestId("servicenow-token-state")).toContainText("stored (set)");

    await page.reload();
    await hydrated(page);
    await expect(card.getByTestId("servicenow-auto")).toBeChecked();
    await expect(card.getByTestId("servicenow-enabled")).toBeChecked();
    expect(await rawHtml(page)).not.toContain(password);

    await card.getByTestId("servicenow-test").click();
    const result = card.getByTestId("servicenow-test-result");
    await expect(result).toHaveAttribute("data-outcome", "ok");
    await expect(result).toContainText(`Connection works. Reached the incident table at 127.0.0.1:${fake.port}.`);
    expect(fake.seen.at(-1)).toEqual({
      method: "GET",
      url: "/api/now/table/incident?sysparm_limit=1&sysparm_fields=sys_id",
      auth: basic(user, password),
      accept: "application/json",
    });

    echo = true;
    await card.getByTestId("servicenow-test").click();
    await expect(result).toHaveAttribute("data-outcome", "auth_refused");
    await expect(result).toContainText("ServiceNow refused the credentials (401).");
    await expect(result).toContainText("ServiceNow said: “User Not Authenticated: Required to provide Auth information");
    const text = (await result.textContent())!;
    expect(text).not.toContain(password);
    expect(text).not.toContain(basic(user, password).slice(6));
    expect(text).toContain("*****");

    // Off again: auto-create, enabled, token.
    await card.getByTestId("servicenow-auto").uncheck();
    await card.getByTestId("servicenow-enabled").uncheck();
    await card.getByTestId("servicenow-clear-token").check();
    await save(page, card, "servicenow");
    await page.reload();
    await hydrated(page);
    await expect(card.getByTestId("servicenow-auto")).not.toBeChecked();
    await expect(card.getByTestId("servicenow-enabled")).not.toBeChecked();
    await expect(card.getByTestId("servicenow-token-state")).toHaveText("Token (not set)");
  } finally {
    await reset(page, "servicenow", {
      "form[base_url]": `http://127.0.0.1:${fake.port}`,
      "form[username]": user,
    });
    await fake.close();
  }
});

test("Azure DevOps: Test connection finds the project with Basic :PAT, and says when it does not exist", async ({ page }) => {
  const pat = secret("ado-pat");
  const fake = await fakeRemote((req) => {
    const url = new URL(req.url!, "http://fake");
    const project = url.pathname.match(/^\/acme\/_apis\/projects\/([^/]+)$/);
    if (!project || url.searchParams.get("api-version") !== "7.1") {
      return { status: 404, body: { $id: "1", message: "The controller for path was not found", typeKey: "HttpException", errorCode: 0 } };
    }
    if (req.headers.authorization !== basic("", pat)) {
      return { status: 401, body: { $id: "1", message: "TF400813: The user '' is not authorized to access this resource.", errorCode: 0 } };
    }
    const name = decodeURIComponent(project[1]);
    if (name !== "Site Ops") {
      return {
        status: 404,
        body: { $id: "1", message: `TF200016: The following project does not exist: ${name}.`, typeKey: "ProjectDoesNotExistWithNameException", errorCode: 0 },
      };
    }
    return { status: 200, body: { id: "eb6e4656-77fc-42a1-9181-4c6d8e9da5d1", name: "Site Ops", state: "wellFormed", visibility: "private" } };
  });
  await openIntegrations(page);
  try {
    const card = page.getByTestId("integration-azure_devops");
    await card.getByTestId("azure_devops-base-url").fill(`http://127.0.0.1:${fake.port}/acme`);
    await card.getByTestId("azure_devops-project").fill("Site Ops");
    await card.getByTestId("azure_devops-work-item-type").fill("");
    await card.getByTestId("azure_devops-token").fill(pat);
    await card.getByTestId("azure_devops-enabled").check();
    await save(page, card, "azure_devops");
    // The default work item type is filled in.
    await page.reload();
    await hydrated(page);
    await expect(card.getByTestId("azure_devops-work-item-type")).toHaveValue("Bug");
    await expect(card.getByTestId("azure_devops-auto")).not.toBeChecked();
    expect(await rawHtml(page)).not.toContain(pat);

    await card.getByTestId("azure_devops-test").click();
    const result = card.getByTestId("azure_devops-test-result");
    await expect(result).toHaveAttribute("data-outcome", "ok");
    await expect(result).toContainText(`Connection works. Reached project “Site Ops” at 127.0.0.1:${fake.port}.`);
    expect(fake.seen.at(-1)).toEqual({
      method: "GET",
      url: "/acme/_apis/projects/Site%20Ops?api-version=7.1",
      auth: basic("", pat),
      accept: "application/json",
    });

    // A project that does not exist (the token is kept: no new one typed).
    await card.getByTestId("azure_devops-project").fill("Sight Ops");
    await card.getByTestId("azure_devops-token").fill("");
    await save(page, card, "azure_devops");
    expect((await savedEntries(page))[0]).toMatchObject({ entity_id: "azure_devops", details: { token: "kept" } });
    await expect(card.getByTestId("azure_devops-token-state")).toContainText("stored (set)");
    await card.getByTestId("azure_devops-test").click();
    await expect(result).toHaveAttribute("data-outcome", "not_found");
    await expect(result).toContainText("Not found.");
    await expect(result).toContainText("Azure DevOps found no project Sight Ops (404).");
    await expect(result).toContainText("TF200016: The following project does not exist: Sight Ops.");
    expect(fake.seen.at(-1)!.auth).toBe(basic("", pat));

    await card.getByTestId("azure_devops-enabled").uncheck();
    await card.getByTestId("azure_devops-clear-token").check();
    await save(page, card, "azure_devops");
    await expect(card.getByTestId("azure_devops-token-state")).toHaveText("Token (not set)");
  } finally {
    await reset(page, "azure_devops", {
      "form[base_url]": `http://127.0.0.1:${fake.port}/acme`,
      "form[project]": "Site Ops",
    });
    await fake.close();
  }
});
