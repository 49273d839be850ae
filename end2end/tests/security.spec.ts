// The security page: backups, the audit log's filters, details, export and
// pages. The database is shared with the other specs, so nothing here
// assumes an empty log: each check is against entries this spec made, or
// against the export of the same filter.
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

const CSV_HEADER = "id,timestamp,action,entity_type,entity_id,user_id,details";

/** Files an issue with the plain form (works with and without JavaScript);
 * returns its id. */
async function fileIssue(page: Page, title: string) {
  await page.goto("/issues/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("medium");
  await page.getByLabel("Domain").selectOption("db");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
  return page.url().split("/").pop()!;
}

const auditRows = (page: Page) => page.getByTestId("audit").locator("tbody tr");
const actionCells = (page: Page) => auditRows(page).locator("td:nth-child(2)");
const entityCells = (page: Page) => auditRows(page).locator("td:nth-child(3)");

/** The different actions in the table (the table is replaced only when
 * the new page has loaded, so poll this after a navigation). */
async function distinctActions(page: Page) {
  return [...new Set((await actionCells(page).allTextContents()).map((a) => a.trim()))];
}

/** The (action, entity) of every row on the page, in order. */
async function rowKeys(page: Page) {
  const actions = await actionCells(page).allTextContents();
  const entities = await entityCells(page).allTextContents();
  return actions.map((a, i) => `${a.trim()} ${entities[i].trim()}`);
}

type Entry = { id: string; timestamp: string; action: string; entity_type: string; entity_id: string; details: unknown };

async function exportJson(request: APIRequestContext, query = ""): Promise<Entry[]> {
  const res = await request.get(`/api/audit/export?format=json${query}`);
  expect(res.status()).toBe(200);
  return res.json();
}

/** Parses the export's CSV (RFC 4180: quoted cells, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  if (cell !== "" || row.length) rows.push([...row, cell]);
  return rows;
}

test("Back up now writes a backup, lists it, and audits it", async ({ page }) => {
  await signIn(page, "/security");
  await hydrated(page);
  await page.getByTestId("backup-now").click();
  const status = page.getByRole("status").filter({ hasText: /^Wrote / });
  await expect(status).toHaveText(/^Wrote tftsr-\d{4}-\d\d-\d\dT[\d-]+Z\.db \(\d+\.\d MiB\)\.$/);
  const name = (await status.textContent())!.match(/^Wrote (\S+\.db)/)![1];
  await expect(page.getByTestId("backups")).toContainText(name);
  await expect(page.getByTestId("backup-now")).toBeEnabled();

  await page.getByLabel("Action").selectOption("db_backup");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/[?&]action=db_backup(&|$)/);
  await expect.poll(() => distinctActions(page)).toEqual(["db_backup"]);
  // Newest first: this backup's entry, with the file's name and digest.
  const first = auditRows(page).first();
  await expect(first.locator("td:nth-child(3)")).toHaveText("database tftsr.db");
  await first.locator("summary").click();
  const details = JSON.parse((await first.locator("pre").textContent())!);
  expect(details.file).toBe(name);
  expect(details.sha256).toMatch(/^[0-9a-f]{64}$/);
  expect(details.size).toBeGreaterThan(0);
});

test("the audit log filters by action; details, CSV and JSON export follow the filter", async ({ page, request }) => {
  await signIn(page, "/");
  const a = await fileIssue(page, unique("Audit filter A"));
  const b = await fileIssue(page, unique("Audit filter B"));
  // Something newer than the issues that is not an issue.
  await page.goto("/security");
  await hydrated(page);
  await page.getByTestId("backup-now").click();
  await expect(page.getByRole("status").filter({ hasText: /^Wrote / })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(actionCells(page).first()).toHaveText("db_backup");
  await expect(page.getByRole("link", { name: "Clear" })).toHaveCount(0);

  // Filter by action.
  await page.getByLabel("Action").selectOption("issue_created");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/[?&]action=issue_created(&|$)/);
  await expect(actionCells(page).first()).toHaveText("issue_created");
  const actions = await actionCells(page).allTextContents();
  expect(new Set(actions)).toEqual(new Set(["issue_created"]));
  expect(actions.length).toBeGreaterThanOrEqual(2);
  expect(actions.length).toBeLessThanOrEqual(50);
  // Newest first: B, then A.
  await expect(entityCells(page).nth(0)).toHaveText(`issue ${b}`);
  await expect(entityCells(page).nth(1)).toHaveText(`issue ${a}`);
  await expect(page.getByLabel("Action")).toHaveValue("issue_created");

  // A row's details: the JSON that was recorded, no content.
  const row = auditRows(page).first();
  const pre = row.locator("pre.details");
  await expect(pre).toBeHidden();
  await row.locator("summary").click();
  await expect(pre).toBeVisible();
  const details = JSON.parse((await pre.textContent())!);
  expect(details).toEqual({ severity: "medium", domain: "db" });
  await expect(row.locator("time")).toHaveAttribute("datetime", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);

  // CSV export of what the filter shows, with the page's cookie.
  const csvLink = page.getByTestId("audit-export-csv");
  await expect(csvLink).toHaveAttribute("href", "/api/audit/export?format=csv&action=issue_created");
  const csvRes = await page.request.get((await csvLink.getAttribute("href"))!);
  expect(csvRes.status()).toBe(200);
  expect(csvRes.headers()["content-type"]).toMatch(/^text\/csv/);
  expect(csvRes.headers()["content-disposition"]).toBe('attachment; filename="tftsr-audit.csv"');
  expect(csvRes.headers()["cache-control"]).toBe("no-store");
  const csvText = await csvRes.text();
  expect(csvText.startsWith(CSV_HEADER + "\r\n")).toBe(true);
  const [header, ...rows] = parseCsv(csvText);
  expect(header.join(",")).toBe(CSV_HEADER);
  expect(rows.length).toBeGreaterThanOrEqual(2);
  for (const r of rows) {
    expect(r).toHaveLength(7);
    expect(r[2]).toBe("issue_created");
    expect(r[3]).toBe("issue");
  }
  expect(rows.slice(0, 2).map((r) => r[4])).toEqual([b, a]);
  expect(JSON.parse(rows[0][6])).toEqual({ severity: "medium", domain: "db" });
  if (rows.length < 50) expect(rows.length).toBe(actions.length);
  else expect(actions.length).toBe(50);

  // JSON export: the same entries.
  const jsonLink = page.getByRole("link", { name: "JSON", exact: true });
  await expect(jsonLink).toHaveAttribute("href", "/api/audit/export?format=json&action=issue_created");
  const jsonRes = await page.request.get((await jsonLink.getAttribute("href"))!);
  expect(jsonRes.status()).toBe(200);
  expect(jsonRes.headers()["content-type"]).toMatch(/^application\/json/);
  const entries: Entry[] = await jsonRes.json();
  expect(Array.isArray(entries)).toBe(true);
  expect(entries.map((e) => e.id)).toEqual(rows.map((r) => r[0]));
  for (const e of entries) expect(e.action).toBe("issue_created");
  expect(entries[0]).toMatchObject({ entity_type: "issue", entity_id: b, details: { severity: "medium", domain: "db" } });

  // Without the session cookie the export is refused; bad parameters are
  // refused with a reason.
  const anonymous = await request.get("/api/audit/export?format=csv");
  expect(anonymous.status()).toBe(401);
  expect(await anonymous.text()).not.toContain("issue_created");
  const badFormat = await page.request.get("/api/audit/export?format=xml");
  expect(badFormat.status()).toBe(400);
  expect(await badFormat.text()).toContain("format=csv or format=json");
  const badAction = await page.request.get("/api/audit/export?format=csv&action=nope");
  expect(badAction.status()).toBe(400);

  // Clear goes back to everything: the backup is the newest entry again.
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/security$/);
  await expect(actionCells(page).first()).toHaveText("db_backup");
  await expect(page.getByLabel("Action")).toHaveValue("");
  await expect(page.getByTestId("audit-export-csv")).toHaveAttribute("href", "/api/audit/export?format=csv");
});

test("the audit log pages 50 at a time, Older and Newer", async ({ page }) => {
  await signIn(page, "/security");
  // Make sure there is a second page: file-and-delete issues through the
  // server functions (two entries each, nothing left behind).
  let all = await exportJson(page.request);
  for (let n = all.length; n < 60; n += 2) {
    const created = await page.request.post("/api/create_issue", {
      headers: { Accept: "application/json" },
      form: { "draft[title]": unique("Audit pager filler"), "draft[severity]": "low", "draft[domain]": "obs" },
    });
    expect(created.status()).toBe(200);
    const id: string = await created.json();
    const deleted = await page.request.post("/api/delete_issue", {
      headers: { Accept: "application/json" },
      form: { id },
    });
    expect(deleted.status()).toBe(200);
  }
  all = await exportJson(page.request);
  expect(all.length).toBeGreaterThan(50);
  const key = (e: Entry) => `${e.action} ${e.entity_type} ${e.entity_id}`;

  await page.goto("/security");
  await hydrated(page);
  await expect.poll(() => rowKeys(page)).toEqual(all.slice(0, 50).map(key));
  await expect(page.getByRole("link", { name: "← Newer" })).toHaveCount(0);

  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(new RegExp(`/security\\?before=${all[49].id}$`));
  const second = all.slice(50, 100);
  await expect.poll(() => rowKeys(page)).toEqual(second.map(key));
  await expect(page.getByRole("link", { name: "Older →" })).toHaveCount(all.length > 100 ? 1 : 0);

  await page.getByRole("link", { name: "← Newer" }).click();
  await expect(page).toHaveURL(/[?&]after=/);
  await expect.poll(() => rowKeys(page)).toEqual(all.slice(0, 50).map(key));
  await expect(page.getByRole("link", { name: "← Newer" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Older →" })).toHaveCount(1);
});

test("@ssr the audit filters work without JavaScript", async ({ page }) => {
  await signIn(page, "/");
  const id = await fileIssue(page, unique("Audit no-JS"));
  await page.goto("/security");
  await expect(page.getByTestId("encryption")).toContainText("AES-256");

  // Action: a plain GET form.
  await page.getByLabel("Action").selectOption("issue_created");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/\/security\?action=issue_created/);
  await expect.poll(() => distinctActions(page)).toEqual(["issue_created"]);
  await expect(entityCells(page).first()).toHaveText(`issue ${id}`);
  await expect(page.getByLabel("Action")).toHaveValue("issue_created");
  await expect(page.getByTestId("audit-export-csv")).toHaveAttribute(
    "href",
    "/api/audit/export?format=csv&action=issue_created",
  );

  // Entity type and dates (UTC, both ends inclusive).
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("Entity type").fill("issue");
  await page.getByLabel("From", { exact: true }).fill(day(-1));
  await page.getByLabel("To", { exact: true }).fill(day(1));
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/entity=issue/);
  await expect(entityCells(page).first()).toHaveText(`issue ${id}`);
  await page.getByLabel("From", { exact: true }).fill(day(2));
  await page.getByLabel("To", { exact: true }).fill("");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(new RegExp(`from=${day(2)}`));
  await expect(page.getByText("No entries match.")).toBeVisible();
  await expect(page.getByTestId("audit")).toHaveCount(0);

  // A bad entity type is refused with a reason, not ignored.
  await page.getByLabel("Entity type").fill("Issue!");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page.getByRole("alert")).toContainText("lowercase letters, digits and _");

  // Clear: everything again.
  await page.getByRole("link", { name: "Clear" }).click();
  await expect(page).toHaveURL(/\/security$/);
  await expect(page.getByLabel("Action")).toHaveValue("");
  await expect(auditRows(page).first()).toBeVisible();
  await expect(page.getByRole("link", { name: "Clear" })).toHaveCount(0);
});
