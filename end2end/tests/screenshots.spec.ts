// Named to run after issues.spec.ts, whose first test needs an empty install.
import { expect, test, type Page } from "@playwright/test";
import { hydrated, signIn, unique } from "./helpers";

// A valid 1 × 1 PNG.
const TINY_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
  "base64",
);

async function fileIssue(page: Page, title: string) {
  await signIn(page, "/issues/new");
  await page.getByLabel("Title").fill(title);
  await page.getByLabel("Severity").selectOption("medium");
  await page.getByLabel("Domain").selectOption("linux");
  await page.getByRole("button", { name: "File issue" }).click();
  await expect(page).toHaveURL(/\/issues\/[0-9a-f-]{36}$/);
}

/** Pastes a screenshot drawn on a canvas, as the clipboard would. */
async function pasteScreenshot(page: Page, width: number, height: number) {
  await page.evaluate(
    async ([w, h]) => {
      const canvas = document.createElement("canvas");
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d")!;
      ctx.fillStyle = "#0f766e";
      ctx.fillRect(0, 0, w, h);
      ctx.fillStyle = "#ffffff";
      ctx.fillText("CPU 98%", 10, 20);
      const blob: Blob = await new Promise((resolve) => canvas.toBlob((b) => resolve(b!), "image/png"));
      const data = new DataTransfer();
      data.items.add(new File([blob], "image.png", { type: "image/png" }));
      document.body.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true }));
    },
    [width, height],
  );
}

test("images: paste and upload, type by content, thumbnails, clear to share, remove", async ({ page }) => {
  await fileIssue(page, unique("Grafana shows CPU pegged"));
  await hydrated(page);
  const section = page.locator("#images");
  await expect(page.getByTestId("images-empty")).toBeVisible();

  // A pasted screenshot becomes an image with a dated name.
  await pasteScreenshot(page, 640, 320);
  await expect(page.getByTestId("image-outcome")).toContainText("1 image(s) added");
  const pasted = page.getByTestId("image").filter({ hasText: "Pasted screenshot" });
  await expect(pasted).toContainText("PNG · 640 × 320");
  await expect(pasted.getByTestId("image-state")).toHaveText("Not checked · stays here");
  // Its thumbnail really loads (a 320-pixel JPEG drawn by the server).
  const thumb = pasted.locator("img");
  await expect
    .poll(() => thumb.evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0)))
    .toBe(320);

  // Upload: the PNG named .txt is accepted, the SVG and the text file named
  // .png are refused with their reasons.
  await page.getByTestId("image-input").setInputFiles([
    { name: "dashboard.txt", mimeType: "text/plain", buffer: TINY_PNG },
    { name: "diagram.svg", mimeType: "image/svg+xml", buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>') },
    { name: "notes.png", mimeType: "image/png", buffer: Buffer.from("2026-11-24 ERROR db timeout\n") },
  ]);
  await page.getByRole("button", { name: "Add images" }).click();
  const outcome = page.getByTestId("image-outcome");
  await expect(outcome).toContainText("1 image(s) added");
  await expect(outcome).toContainText("diagram.svg: SVG is not accepted");
  await expect(outcome).toContainText("notes.png: This is not an image TFTSR accepts");
  await expect(page.getByTestId("image")).toHaveCount(2);
  await expect(page.getByTestId("image").filter({ hasText: "dashboard.txt" })).toContainText("PNG · 1 × 1");

  // The original opens at full size with its real type.
  const href = await pasted.getByRole("link").getAttribute("href");
  const original = await page.request.get(href!);
  expect(original.headers()["content-type"]).toBe("image/png");
  expect(original.headers()["x-content-type-options"]).toBe("nosniff");
  expect((await original.body()).subarray(1, 4).toString()).toBe("PNG");

  // Clearing needs the box ticked: the browser refuses the form without it.
  await pasted.getByRole("button", { name: "Clear to share" }).click();
  await expect(pasted.getByTestId("image-state")).toHaveText("Not checked · stays here");
  await pasted.getByRole("checkbox").check();
  await pasted.getByRole("button", { name: "Clear to share" }).click();
  await expect(pasted.getByTestId("image-state")).toHaveText("Cleared to share");
  await expect(pasted.getByRole("button", { name: "Withdraw clearance" })).toBeVisible();

  // On the timeline, which follows the page's changes without a reload,
  // and in the audit log.
  await expect(page.getByTestId("timeline")).toContainText("Image attached");
  await page.goto("/security?action=image_cleared");
  await expect(page.getByTestId("audit")).toContainText("image_cleared");

  // Removing asks first, then the image is gone.
  await page.goBack();
  await hydrated(page);
  const tiny = page.getByTestId("image").filter({ hasText: "dashboard.txt" });
  await tiny.getByText("Remove…").click();
  await tiny.getByRole("button", { name: "Yes, remove it" }).click();
  await expect(page.getByTestId("image")).toHaveCount(1);
  await expect(section).not.toContainText("dashboard.txt");
  await expect(page.getByTestId("timeline")).toContainText("Image removed");
});

test("@ssr images upload and clear without JavaScript", async ({ page }) => {
  await fileIssue(page, unique("No-JS image"));
  await page.getByTestId("image-input").setInputFiles({ name: "tiny.png", mimeType: "image/png", buffer: TINY_PNG });
  await page.getByRole("button", { name: "Add images" }).click();
  if (test.info().project.name === "no-js") {
    await expect(page).toHaveURL(/images_added=1/);
  }
  await expect(page.getByRole("status").filter({ hasText: "1 image(s) added." }).first()).toBeVisible();
  const card = page.getByTestId("image").filter({ hasText: "tiny.png" });
  await card.getByRole("checkbox").check();
  await card.getByRole("button", { name: "Clear to share" }).click();
  await expect(page.getByTestId("image").filter({ hasText: "tiny.png" }).getByTestId("image-state")).toHaveText(
    "Cleared to share",
  );
});
