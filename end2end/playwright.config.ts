import { defineConfig } from "@playwright/test";

// The suite runs against the optimised release build that `.ci/start` serves
// (a broken wasm-opt only shows in a real browser), on a fresh encrypted
// database in end2end/.data, with Debian's Chromium (never a downloaded one).
export const PORT = Number(process.env.TFTSR_E2E_PORT ?? 3917);
export const TOKEN = "e2e-access-token-6f1d2c";

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    { name: "hydrated", use: { javaScriptEnabled: true } },
    // Server rendering must work on its own: the same pages, no JavaScript.
    { name: "no-js", use: { javaScriptEnabled: false }, grep: /@ssr/ },
  ],
  webServer: {
    command:
      `rm -rf .data && mkdir -p .data && ../target/release/tftsr serve --port ${PORT} --data-dir .data`,
    url: `http://127.0.0.1:${PORT}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      TFTSR_DB_KEY: "e2e database key, not a secret",
      TFTSR_ACCESS_TOKEN: TOKEN,
      LEPTOS_SITE_ROOT: "../target/site",
      RUST_LOG: "warn",
    },
  },
});
