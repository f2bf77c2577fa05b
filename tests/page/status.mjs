// The status page in headless Chromium: it lists the units, shows a unit
// killed with `docker kill` restarting without a reload, and its restart
// button restarts the unit. Run by tests/page_in_chromium.rs:
//   node status.mjs URL NAMESPACE SCREENSHOT
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";

const [url, namespace, screenshot] = process.argv.slice(2);
const step = (what) => console.log("page: " + what);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  const logs = [];
  page.on("console", (m) => logs.push(m.text()));
  page.on("pageerror", (e) => logs.push("error: " + e.message));

  await page.goto(url);
  step("loaded " + page.url());
  const names = await page.$$eval("tbody#units tr", (rows) => rows.map((r) => r.dataset.unit));
  if (names.join(",") !== "db,web") throw new Error("units listed: " + names);
  await page.waitForSelector("#live.on");
  step("live");

  const restarts = () =>
    page.$eval('tr[data-unit="web"] td[data-key="restarts"]', (td) => td.textContent);
  const before = await restarts();
  const url0 = page.url();
  execFileSync("docker", ["kill", namespace + "--web"]);
  step("killed web");
  await page.waitForFunction(
    (was) => {
      const td = document.querySelector('tr[data-unit="web"] td[data-key="restarts"]');
      const phase = document.querySelector('tr[data-unit="web"] td[data-key="phase"]');
      return td.textContent !== was && phase.textContent === "running";
    },
    before,
  );
  if (page.url() !== url0) throw new Error("the page reloaded");
  const timeline = await page.$$eval("#timeline li", (items) => items.map((i) => i.textContent));
  if (!timeline.some((t) => t.includes("web restarting"))) throw new Error("timeline: " + timeline);
  step("restart shown: " + (await restarts()));
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });

  const startedAt = () =>
    page.$eval('tr[data-unit="web"]', (tr) => tr.dataset.startedAt);
  const runBefore = await startedAt();
  await page.click('tr[data-unit="web"] button[data-action="restart"]');
  await page.waitForFunction(
    (was) => {
      const tr = document.querySelector('tr[data-unit="web"]');
      return tr.dataset.startedAt && tr.dataset.startedAt !== was &&
        tr.querySelector('td[data-key="phase"]').textContent === "running";
    },
    runBefore,
  );
  const error = await page.$eval("#error", (e) => e.textContent);
  if (error) throw new Error("the page says: " + error);
  step("restart button restarted web");
  if (logs.some((l) => l.startsWith("error"))) throw new Error("page errors: " + logs.join("\n"));
} finally {
  await browser.close();
}
