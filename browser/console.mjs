// Drives the operations console in headless chromium against a running
// gateway. The Rust test gateway/tests/console.rs starts the gateway and
// real WebSocket viewers; this script talks to it by lines: it prints
// "@step args" when the test must act, then waits for one line on stdin
// ("ok ..." to go on). Env: GATEWAY_URL, ADMIN_KEY, ASSISTANT_TOKEN,
// CONSOLE_SCREENSHOTS (a folder for one PNG per page).
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { launch } from "./launch.mjs";

const base = process.env.GATEWAY_URL;
const shots = process.env.CONSOLE_SCREENSHOTS || "target/console-screenshots";
mkdirSync(shots, { recursive: true });
rmSync(`${shots}/failure.png`, { force: true });
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

async function step(name, ...args) {
  console.log(`@${name} ${args.join(" ")}`.trim());
  const { value, done } = await lines.next();
  if (done || !value.startsWith("ok")) throw new Error(`test refused step ${name}: ${value}`);
  return value.slice(2).trim();
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
const shot = (name) => page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
const flashOk = async () => {
  await page.waitForSelector('#flash[data-code="ok"]', { timeout: 5000 });
  await page.evaluate(() => { document.getElementById("flash").dataset.code = ""; });
};

try {
  // Sign-in page, Chinese by default.
  await page.goto(`${base}/console`);
  await page.waitForSelector("#signin-admin");
  check((await page.getAttribute("html", "lang")) === "zh-CN", "zh-CN is the default language");
  check((await page.textContent("header h1")) === "直播网关控制台", "Chinese title");
  await shot("01-signin");

  // The operator signs in, creates a room, makes helen its assistant, starts it.
  await page.fill("#admin-key", process.env.ADMIN_KEY);
  await page.click("#signin-admin");
  await page.waitForSelector("#rooms-table");
  await page.fill("#new-id", "r1");
  await page.fill("#new-title", "春季上新");
  await page.fill("#new-anchor", "anna");
  await page.click("#room-save");
  await page.waitForSelector('tr[data-room="r1"]');
  await page.fill("#role-room", "r1");
  await page.fill("#role-user", "helen");
  await page.selectOption("#role-role", "assistant");
  await page.fill("#role-nick", "小助手");
  await page.click("#role-save");
  await flashOk();
  await page.click('tr[data-room="r1"] button[data-action="start"]');
  await page.waitForFunction(() => document.querySelector('tr[data-room="r1"] .status')?.textContent.startsWith("101"));
  await shot("02-rooms");
  await step("room_started", "r1");

  // A viewer's comment appears in the moderation stream within 1 s.
  await page.click('tr[data-room="r1"] button[data-action="open"]');
  await page.waitForSelector("#live-state");
  await page.click("#nav-moderation");
  await page.waitForSelector("#comment-stream", { state: "attached" });
  // The clock runs from the viewer's ack (the comment is logged) on.
  const t0 = Date.now();
  const ackMs = await step("comment");
  const t1 = Date.now();
  await page.waitForSelector('#comment-stream li:has-text("hello-from-vic")', { timeout: 1000 });
  console.log(`comment shown ${Date.now() - t1} ms after its ack (${Date.now() - t0} ms after the step began; the ack took ${ackMs} ms)`);

  // The moderator deletes it; the viewer receives the deletion.
  const offset = await page.getAttribute('#comment-stream li:has-text("hello-from-vic")', "data-offset");
  await page.click('#comment-stream li:has-text("hello-from-vic") button[data-action="delete"]');
  await flashOk();
  await page.waitForSelector('#comment-stream li:has-text("hello-from-vic")', { state: "detached" });
  await step("deleted", offset);

  // The moderator mutes troll; troll is refused.
  await step("troll_comment");
  await page.waitForSelector('#comment-stream li[data-user="troll"]', { timeout: 1000 });
  await page.click('#comment-stream li[data-user="troll"] button[data-action="mute"]');
  await flashOk();
  await page.waitForSelector('#mute-list tr[data-user="troll"]');
  await page.click("#audit-refresh");
  await page.waitForSelector('#audit td:text-is("mute")');
  await shot("04-moderation");
  await step("muted", "troll");

  // The operator pushes a notice and a goods card; the viewer receives both.
  await page.click("#nav-control");
  await page.waitForSelector("#notice-text");
  await page.fill("#notice-text", "今晚八点全场五折");
  await page.click("#notice-push");
  await flashOk();
  await page.waitForSelector('#notice-now:has-text("今晚八点全场五折")');
  await step("notice", "今晚八点全场五折");
  await page.fill("#goods-id", "tea-1");
  await page.fill("#goods-name", "明前龙井 250g");
  await page.click("#goods-save");
  await page.waitForSelector('#shelf tr[data-goods="tea-1"]');
  await page.click('#shelf tr[data-goods="tea-1"] button[data-action="card"]');
  await flashOk();
  await page.fill("#lottery-prize", "茶具一套");
  await page.click("#lottery-create");
  await page.waitForSelector('#lotteries tr[data-lottery="lot-1"]');
  await shot("03-room-control");
  await step("card", "tea-1");

  // A dashboard figure changes (the SSE stream, once a second).
  await page.click("#nav-dashboard");
  await page.waitForSelector('[data-figure="likes"] b');
  const before = Number(await page.textContent('[data-figure="likes"] b'));
  await step("dashboard", String(before));
  await page.waitForFunction((b) => Number(document.querySelector('[data-figure="likes"] b')?.textContent) > b, before, { timeout: 5000 });
  const after = Number(await page.textContent('[data-figure="likes"] b'));
  console.log(`dashboard likes ${before} -> ${after}`);
  // The curve (a point a second in this test) is drawn as an SVG polyline.
  // The page reads the curve on open and again every 5 s: a room a second old may show one point
  // at first, so wait for the re-read (up to 12 s) before asking for two.
  const twoPoints = await page
    .waitForFunction(() => (document.querySelector("#curve-svg polyline.curve")?.getAttribute("points") ?? "").split(" ").length >= 2, null, { timeout: 12000 })
    .then(() => true, () => false);
  check(twoPoints, "the curve has points");
  await shot("05-dashboard");
  // The CSV export downloads the curve with the key.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv-export")]);
  const csvPath = await download.path();
  const csv = readFileSync(csvPath, "utf8").split("\n");
  check(csv[0].startsWith("index,slot_at,at,status,online"), `CSV header: ${csv[0]}`);
  check(csv.length >= 3, "the CSV holds curve points");

  // Cluster: this node's connections, readiness and store.
  await page.click("#nav-cluster");
  await page.waitForSelector("#node-table");
  const conns = Number(await page.textContent('#node-table [data-field="connections"]'));
  check(conns >= 3, `cluster page shows the node's connections (${conns})`);
  check((await page.textContent('#node-table [data-field="store"]')) === "ok", "store ok");
  check((await page.$$("#nodes-table tr[data-node]")).length >= 1, "the cluster's nodes are listed");
  await shot("06-cluster");

  // The language switch.
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("header h1")?.textContent === "Live gateway console");
  check((await page.textContent("#nav-rooms")) === "Rooms", "English navigation");
  await shot("07-cluster-en");
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("header h1")?.textContent === "直播网关控制台");

  // The assistant signs in with a token: the server refuses operator actions.
  await page.click("#signout");
  await page.waitForSelector("#signin-token");
  await page.fill("#token", process.env.ASSISTANT_TOKEN);
  await page.click("#signin-token");
  await page.waitForSelector("#my-role");
  await page.waitForFunction(() => document.querySelector("#my-role")?.textContent === "assistant");
  await page.click("#live-end");
  await page.waitForSelector('#flash[data-code="forbidden"]');
  await page.evaluate(() => { document.getElementById("flash").dataset.code = ""; });
  await page.fill("#notice-text", "助手想推公告");
  await page.click("#notice-push");
  await page.waitForSelector('#flash[data-code="forbidden"]');
  await page.evaluate(() => { document.getElementById("flash").dataset.code = ""; });
  await page.click('#shelf tr[data-goods="tea-1"] button[data-action="card"]');
  await page.waitForSelector('#flash[data-code="forbidden"]');
  await shot("08-assistant-control");
  // The token is no admin key: the admin API answers 401.
  const status = await page.evaluate(async (tok) => (await fetch("/api/rooms", { headers: { authorization: `Bearer ${tok}` } })).status, process.env.ASSISTANT_TOKEN);
  check(status === 401, `admin API with a token answers ${status}`);
  // What the assistant may do, it can: the mute list.
  await page.click("#nav-moderation");
  await page.waitForSelector('#mute-list tr[data-user="troll"]');
  await shot("09-assistant-moderation");
  await step("assistant_refused");

  check(pageErrors.length === 0, `no page errors: ${pageErrors.join("; ")}`);
  console.log("console: ok");
  await browser.close();
  process.exit(0);
} catch (e) {
  await shot("failure").catch(() => {});
  console.error(`console: ${e.stack ?? e}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join("; ")}`);
  await browser.close();
  process.exit(1);
}
