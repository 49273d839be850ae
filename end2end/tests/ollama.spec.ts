import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

/** A local server speaking Ollama's model API: /api/tags lists what is
 * installed, /api/pull streams NDJSON progress over a second or so and then
 * installs the model, /api/delete removes it. */
async function fakeOllama() {
  const installed = new Map<string, number>([["llama3.2:1b", 1_321_098_329]]);
  const seen: { method: string; url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", body });
      if (req.method === "GET" && req.url === "/api/tags") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ models: [...installed].map(([name, size]) => ({ name, model: name, size })) }));
        return;
      }
      if (req.method === "POST" && req.url === "/api/pull") {
        const { model } = JSON.parse(body);
        const total = 2_000_000_000;
        res.writeHead(200, { "content-type": "application/x-ndjson" });
        const lines = [
          { status: "pulling manifest" },
          ...[1, 2, 3, 4, 5, 6, 7, 8].map((n) => ({ status: "pulling 74701a8c35f6", digest: "sha256:74701a8c35f6", total, completed: (total / 8) * n })),
          { status: "verifying sha256 digest" },
          { status: "writing manifest" },
          { status: "success" },
        ];
        let i = 0;
        const next = () => {
          if (i === lines.length) {
            installed.set(model, total);
            res.end();
            return;
          }
          res.write(JSON.stringify(lines[i++]) + "\n");
          setTimeout(next, 200);
        };
        next();
        return;
      }
      if (req.method === "DELETE" && req.url === "/api/delete") {
        const { model } = JSON.parse(body);
        const found = installed.delete(model);
        res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
        res.end(found ? "" : JSON.stringify({ error: `model '${model}' not found` }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => server.close() };
}

test("the Ollama page shows the machine, then pulls and deletes a model with live progress", async ({ page }) => {
  test.slow();
  const fake = await fakeOllama();
  try {
    await signIn(page, "/ollama");
    await hydrated(page);
    // The real machine's facts and the sizes weighed against them.
    await expect(page.getByTestId("hw-cpu")).toContainText("threads");
    await expect(page.getByTestId("hw-ram")).toContainText("GiB");
    await expect(page.getByTestId("recommendation")).toHaveCount(6);
    await expect(page.getByTestId("recommendation").first()).toContainText("llama3.2:1b");

    // Point the page at the local Ollama through a provider in settings.
    await page.goto("/settings");
    await hydrated(page);
    const name = unique("Desk Ollama");
    await page.getByTestId("add-provider").click();
    const form = page.locator("details.add-provider");
    await form.getByTestId("provider-name").fill(name);
    await form.getByTestId("provider-kind").selectOption("ollama");
    await form.getByTestId("provider-url").fill(fake.url);
    await form.getByTestId("provider-model").fill("llama3.2:1b");
    await form.getByTestId("save-provider").click();
    await expect(page.getByTestId("provider").filter({ hasText: name })).toBeVisible();

    await page.getByRole("link", { name: "Local models" }).click();
    await expect(page).toHaveURL(/\/ollama$/);
    await hydrated(page);
    // Earlier runs of this spec on the same database may have left servers:
    // choose this one.
    const picker = page.getByTestId("ollama-server-select");
    if (await picker.count()) {
      await picker.selectOption({ label: `${name} (${fake.url})` });
      await page.getByRole("button", { name: "Show" }).click();
    }
    await expect(page.getByTestId("ollama-server")).toContainText(name);
    await expect(page.getByTestId("model")).toHaveCount(1);
    await expect(page.getByTestId("model").first()).toContainText("llama3.2:1b");

    await page.getByTestId("pull-model").fill("qwen2.5:3b");
    await page.getByTestId("pull-button").click();
    const pull = page.locator('[data-testid=pull][data-model="qwen2.5:3b"]');
    // The bar moves while the download runs.
    const bar = pull.getByTestId("pull-progress");
    await expect(bar).toBeVisible();
    await expect
      .poll(async () => Number(await bar.getAttribute("value")), { timeout: 5_000 })
      .toBeGreaterThan(0);
    await expect(pull.getByTestId("pull-status")).toContainText("%");
    await expect(pull).toHaveAttribute("data-state", "done", { timeout: 15_000 });
    await expect(pull).toContainText("Pulled");
    // The finished pull refreshed the list.
    await expect(page.locator('[data-testid=model][data-model="qwen2.5:3b"]')).toContainText("1.9 GiB");

    const row = page.locator('[data-testid=model][data-model="llama3.2:1b"]');
    await row.getByTestId("delete-model").click();
    await row.getByTestId("confirm-delete-model").click();
    await expect(row).toHaveCount(0);
    await expect(page.getByTestId("model")).toHaveCount(1);

    expect(fake.seen.some((r) => r.method === "POST" && r.url === "/api/pull" && JSON.parse(r.body).model === "qwen2.5:3b")).toBe(true);
    expect(fake.seen.some((r) => r.method === "DELETE" && JSON.parse(r.body).model === "llama3.2:1b")).toBe(true);

    // The pull and the deletion are in the audit log.
    await page.goto("/security");
    await expect(page.getByTestId("audit").getByText("model_pulled").first()).toBeVisible();
    await expect(page.getByTestId("audit").getByText("model_deleted").first()).toBeVisible();
  } finally {
    fake.close();
  }
});

test("the Ollama page explains what to do when Ollama is not running", async ({ page }) => {
  // Nothing listens on the default port here, or a provider from another
  // test points at a server that has closed: either way, a clear error.
  await signIn(page, "/ollama");
  await hydrated(page);
  const picker = page.getByTestId("ollama-server-select");
  if (await picker.count()) {
    await picker.selectOption({ index: 0 });
  }
  await expect(page.getByTestId("ollama-error")).toContainText("is it running?");
  await expect(page.getByTestId("ollama-error")).toContainText("ollama serve");
});
