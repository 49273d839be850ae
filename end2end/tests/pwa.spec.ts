import { expect, test } from "@playwright/test";
import { hydrated, signIn } from "./helpers";

test("Chromium reports the app installable, with its service worker in control", async ({ page, context }) => {
  await signIn(page, "/");
  await hydrated(page);
  // The worker registers on load; the page is controlled once it activates
  // and the page reloads.
  await page.waitForFunction(async () => {
    const reg = await navigator.serviceWorker.getRegistration();
    return !!reg?.active;
  });
  await page.reload();
  await expect.poll(() => page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);

  const manifest = await (await page.request.get("/manifest.webmanifest")).json();
  expect(manifest.display).toBe("standalone");
  expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(
    expect.arrayContaining(["192x192", "512x512"]),
  );

  // What Chromium itself says about installing this page. Playwright's
  // contexts are incognito profiles, where Chromium never offers to install
  // anything ("in-incognito"); every other criterion (manifest fields,
  // icons, service worker, secure origin) must report nothing.
  const cdp = await context.newCDPSession(page);
  await expect
    .poll(async () => {
      const { installabilityErrors } = await cdp.send("Page.getInstallabilityErrors");
      return installabilityErrors
        .map((e: { errorId: string }) => e.errorId)
        .filter((id: string) => id !== "in-incognito");
    })
    .toEqual([]);
  const { url, errors } = await cdp.send("Page.getAppManifest");
  expect(url).toMatch(/\/manifest\.webmanifest$/);
  expect(errors).toEqual([]);
});
