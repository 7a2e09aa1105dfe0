// Drives the console's co-stream (连麦) and link controls in headless
// chromium. gateway/tests/console.rs starts the gateway with the live rooms
// c1 (anchor anna, sub-anchor sam) and c2 (anchor bob) and plays the Rust
// clients: the real-name viewer vic and the anchor bob. Like console.mjs it
// prints "@step args" when the test must act and waits for "ok ..." on
// stdin. Env: GATEWAY_URL, ADMIN_KEY, ANCHOR_TOKEN (anna), SUB_ANCHOR_TOKEN
// (sam), CONSOLE_SCREENSHOTS.
import { createInterface } from "node:readline";
import { mkdirSync, rmSync } from "node:fs";
import { launch } from "./launch.mjs";

const base = process.env.GATEWAY_URL;
const shots = process.env.CONSOLE_SCREENSHOTS || "target/console-screenshots";
mkdirSync(shots, { recursive: true });
rmSync(`${shots}/costream-failure.png`, { force: true });
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
const pageErrors = [];
/** A page in its own context (its own localStorage: room, language). */
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  p.on("pageerror", (e) => pageErrors.push(String(e)));
  return p;
}
const shot = (p, name) => p.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
/** Waits for the flash to show `code` (the server's code on a refusal), then clears it. */
const flashed = async (p, code = "ok") => {
  await p.waitForSelector(`#flash[data-code="${code}"]`, { timeout: 5000 });
  await p.evaluate(() => { document.getElementById("flash").dataset.code = ""; });
};
/** Signs a token user in and opens room `room` on the control page. */
async function tokenSignIn(p, token, room, role) {
  await p.goto(`${base}/console`);
  await p.fill("#token", token);
  await p.click("#signin-token");
  await p.waitForSelector("#room-pick");
  await p.fill("#room-pick", room);
  await p.click("#room-open");
  await p.waitForFunction((r) => document.querySelector("#my-role")?.textContent === r, role);
  await p.waitForSelector("#sec-costream");
}

const page = await newPage();
let current = page;
try {
  // The anchor signs in with a token; the page is Chinese by default.
  await tokenSignIn(page, process.env.ANCHOR_TOKEN, "c1", "anchor");
  check((await page.textContent("#sec-costream h2")) === "连麦与PK", "Chinese section title");
  await page.waitForSelector('#pk-current:has-text("未连线")');
  check(await page.isHidden("#pk-start"), "no PK start without a link");
  await page.waitForSelector('#costream-enabled[data-enabled="false"]');
  await page.click("#costream-enable");
  await flashed(page);
  await page.waitForSelector('#costream-enabled[data-enabled="true"]');

  // A real-name viewer applies for video: the applicant shows, with the media.
  await step("apply");
  await page.waitForSelector('#costream-applicants tr[data-user="vic"][data-media="video"]');
  check((await page.textContent('#costream-applicants tr[data-user="vic"] .media')) === "视频", "video shown");
  await shot(page, "20-costream-applicant");

  // Accept, confirm; the viewer confirms: live with the guest.
  await page.click('#costream-applicants tr[data-user="vic"] button[data-action="accept"]');
  await flashed(page);
  await page.waitForSelector('#costream-session[data-phase="accepted"]');
  await page.waitForSelector('#costream-applicants tr[data-user="vic"]', { state: "detached" });
  await page.click("#costream-confirm");
  await flashed(page);
  await page.waitForSelector('#costream-session[data-phase="anchor_confirmed"]');
  const session = await step("guest_confirm");
  await page.waitForSelector(`#costream-session[data-phase="live"][data-session="${session}"]`);
  await page.waitForSelector('#costream-live[data-guest="vic"]');
  check((await page.textContent("#costream-session .guest")).includes("vic"), "the guest is shown");

  // One guest at a time: the server's refusal shows with its code.
  await page.fill("#costream-invite-user", "zed");
  await page.selectOption("#costream-invite-media", "voice");
  await page.click("#costream-invite");
  await flashed(page, "costream_busy");
  await shot(page, "21-costream-live");

  // An operator sees the public state read-only (no admin HTTP API for co-stream).
  const admin = await newPage();
  current = admin;
  await admin.goto(`${base}/console`);
  await admin.fill("#admin-key", process.env.ADMIN_KEY);
  await admin.click("#signin-admin");
  await admin.waitForSelector('tr[data-room="c1"]');
  await admin.click('tr[data-room="c1"] button[data-action="open"]');
  await admin.waitForSelector('#costream-live[data-guest="vic"]');
  await admin.waitForSelector("#costream-read-only");
  check((await admin.$$("#costream-enable, #costream-invite, #link-invite, #costream-session")).length === 0, "the operator gets no controls");
  await shot(admin, "22-costream-admin");
  current = page;

  // Mute: the guest gets the step; the public state says muted, also on the operator's page.
  await page.click("#costream-mute");
  await flashed(page);
  await page.waitForSelector('#costream-session[data-muted="true"] #costream-unmute');
  await admin.waitForSelector('#costream-live:has-text("已静音")');
  await step("muted", session);

  // End: the guest gets the step; the room's live co-stream is gone.
  await page.click("#costream-end");
  await flashed(page);
  await page.waitForSelector('#costream-session[data-phase="ended"]:has-text("ended_by_anchor")');
  await page.waitForSelector('#costream-live[data-guest=""]');
  await admin.waitForSelector('#costream-live[data-guest=""]');
  await step("ended", session);

  // Link: invite c2's anchor, who accepts; both sides see it; end it from the page.
  await step("bob_joins");
  await page.fill("#link-room", "c2");
  await page.click("#link-invite");
  await flashed(page);
  await page.waitForSelector('#link-steps tr[data-direction="outgoing"][data-phase="invited"]');
  await step("link_accept");
  await page.waitForSelector('#link-live:has-text("c2 (bob)") #link-end');
  await page.waitForSelector('#link-steps tr[data-direction="outgoing"][data-phase="live"]');
  await admin.waitForSelector('#link-live:has-text("c2 (bob)")');
  check((await admin.$$("#link-end")).length === 0, "the operator cannot end the link");
  await shot(page, "23-link-live");

  // PK on the link: the anchor starts it; the operator adds score over the admin API;
  // both pages see the score event; the anchor ends it early and c1 wins.
  await page.waitForSelector("#pk-start", { state: "visible" });
  await page.fill("#pk-duration", "120");
  await page.click("#pk-start button");
  await flashed(page);
  await page.waitForSelector('#pk-current .pk-line[data-state="started"]:has-text("c1 0 : c2 0")');
  await admin.waitForSelector('#pk-current .pk-line[data-state="started"]');
  check((await page.$$("#pk-score")).length === 0, "the anchor gets no admin score form");
  check((await admin.isHidden("#pk-start")) && (await admin.isHidden("#pk-end")), "the operator cannot start or end a PK");
  await admin.selectOption("#pk-mode", "set");
  await admin.fill("#pk-amount", "7");
  await admin.click("#pk-score button");
  await flashed(admin);
  await page.waitForSelector('#pk-current .pk-line[data-state="score"]:has-text("c1 7 : c2 0")', { timeout: 10000 });
  await admin.waitForSelector('#pk-current .pk-line:has-text("c1 7 : c2 0")', { timeout: 10000 });
  await shot(page, "26-pk-running");
  await page.click("#pk-end");
  await flashed(page);
  await page.waitForSelector('#pk-last .pk-line[data-state="ended"]:has-text("胜方 c1 (提前结束)")');
  await admin.waitForSelector('#pk-history .pk-line[data-state="ended"]:has-text("c1 7 : c2 0")');
  await shot(admin, "27-pk-history");

  await page.click("#link-end");
  await flashed(page);
  await page.waitForSelector('#link-live[data-link=""]');
  await admin.waitForSelector('#link-live[data-link=""]');
  await step("link_ended");

  // Incoming invitations from c2: decline one, accept the next, end it.
  await step("bob_invites");
  await page.waitForSelector('#link-steps tr[data-direction="incoming"][data-phase="invited"]');
  await page.click('#link-steps tr[data-direction="incoming"][data-phase="invited"] button[data-action="decline"]');
  await flashed(page);
  await page.waitForSelector('#link-steps tr[data-direction="incoming"][data-phase="ended"]:has-text("declined")');
  await step("bob_declined");
  await step("bob_invites");
  await page.waitForSelector('#link-steps tr[data-direction="incoming"][data-phase="invited"]');
  await page.click('#link-steps tr[data-direction="incoming"][data-phase="invited"] button[data-action="accept"]');
  await flashed(page);
  await page.waitForSelector('#link-live:has-text("c2 (bob) ⇄ c1 (anna)")');
  await step("bob_linked");
  await page.click("#link-end");
  await flashed(page);
  await page.waitForSelector('#link-live[data-link=""]');
  await step("link_ended");

  // English.
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("#sec-costream h2")?.textContent === "Co-stream and PK");
  check((await page.textContent("#costream-enable")) === "Enable co-stream", "English buttons");
  check((await page.textContent("#costream-session .phase")) === "ended", "English phase");
  await shot(page, "24-costream-en");
  await page.click("#lang");
  await page.waitForFunction(() => document.querySelector("#sec-costream h2")?.textContent === "连麦与PK");

  // The sub-anchor: only the switch; switching off reaches the anchor's page.
  const sub = await newPage();
  current = sub;
  await tokenSignIn(sub, process.env.SUB_ANCHOR_TOKEN, "c1", "sub_anchor");
  check((await sub.$$("#costream-invite, #costream-applicants, #link-invite, #costream-read-only")).length === 0, "the sub-anchor gets only the switch");
  await sub.click("#costream-disable");
  await flashed(sub);
  await sub.waitForSelector('#costream-enabled[data-enabled="false"]');
  await page.waitForSelector('#costream-enabled[data-enabled="false"]');
  await shot(sub, "25-costream-sub-anchor");

  check(pageErrors.length === 0, `no page errors: ${pageErrors.join("; ")}`);
  console.log("console-costream: ok");
  await browser.close();
  process.exit(0);
} catch (e) {
  await shot(current, "costream-failure").catch(() => {});
  console.error(`console-costream: ${e.stack ?? e}`);
  if (pageErrors.length) console.error(`page errors: ${pageErrors.join("; ")}`);
  await browser.close();
  process.exit(1);
}
