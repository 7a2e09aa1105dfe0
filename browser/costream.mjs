// Co-stream in two real browsers: two headless chromium pages load the
// test's page, each connected to another gateway node (both on one Redis),
// go through apply → accept → confirm → confirm, then open a WebRTC data
// channel whose only signalling is the gateway's `signal` relay and send a
// message each way. Usage:
//   node browser/costream.mjs PAGE_URL ROOM WS_A TOKEN_ANCHOR WS_B TOKEN_GUEST
// Prints "costream: ok ..." and exits 0, or says what failed and exits 1.
import { launch } from "./launch.mjs";

const [pageUrl, room, wsA, tokenAnchor, wsB, tokenGuest] = process.argv.slice(2);
const fail = (msg) => {
  console.error(`costream: ${msg}`);
  process.exit(1);
};
if (!tokenGuest) fail("usage: costream.mjs PAGE_URL ROOM WS_A TOKEN_ANCHOR WS_B TOKEN_GUEST");
setTimeout(() => fail("timed out"), 60_000).unref();

const browser = await launch([
  // Real host candidates (no mDNS names) on this machine's interfaces.
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--allow-loopback-in-peer-connection",
]);
try {
  const anchor = await browser.newPage();
  const guest = await browser.newPage();
  await anchor.goto(pageUrl);
  await guest.goto(pageUrl);
  const req = (page, body) => page.evaluate((b) => window.request(b), body);
  const must = async (page, body, what) => {
    const r = await req(page, body);
    if (r.type !== "ack" && r.type !== "joined") fail(`${what}: ${JSON.stringify(r)}`);
    return r;
  };
  await anchor.evaluate(([u, t]) => window.connect(u, t), [wsA, tokenAnchor]);
  await guest.evaluate(([u, t]) => window.connect(u, t), [wsB, tokenGuest]);
  await must(anchor, { type: "join", room }, "anchor join");
  await must(guest, { type: "join", room }, "guest join");
  await must(anchor, { type: "costream", action: "enable" }, "enable");
  // The guest's node may see the switch a moment later: retry the apply.
  let applied;
  for (let i = 0; i < 50; i++) {
    applied = await req(guest, { type: "costream", action: "apply", media: "video" });
    if (applied.type === "ack") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (applied.type !== "ack") fail(`apply: ${JSON.stringify(applied)}`);
  await anchor.evaluate(() => window.waitEvent("costream_applicants"));
  const accepted = await must(anchor, { type: "costream", action: "accept", user: "vic" }, "accept");
  const session = accepted.event.session;
  await must(anchor, { type: "costream", action: "confirm", session }, "anchor confirm");
  await guest.evaluate((s) => window.waitEvent("costream_step", "phase", "anchor_confirmed"), session);
  const live = await must(guest, { type: "costream", action: "confirm", session }, "guest confirm");
  if (live.event.phase !== "live") fail(`not live: ${JSON.stringify(live)}`);
  await anchor.evaluate(() => window.waitEvent("costream", "reason", "started"));
  await guest.evaluate((s) => window.answerCalls(s), session);
  await anchor.evaluate((s) => window.call(s), session);
  await anchor.evaluate(() => window.channelOpen());
  await guest.evaluate(() => window.channelOpen());
  await anchor.evaluate(() => window.send("hello from the anchor"));
  await guest.waitForFunction(() => window.client.received.length > 0);
  await guest.evaluate(() => window.send("hello from the guest"));
  await anchor.waitForFunction(() => window.client.received.length > 0);
  const got = async (page) => page.evaluate(() => window.client.received[0]);
  const failures = async (page) => page.evaluate(() => window.client.failures);
  const [atGuest, atAnchor] = [await got(guest), await got(anchor)];
  const problems = [...(await failures(anchor)), ...(await failures(guest))];
  if (problems.length) fail(`signalling refused: ${problems.join("; ")}`);
  const signals = async (page) =>
    page.evaluate(() => window.client.events.filter((e) => e.type === "signal").map((e) => e.kind));
  const [toGuest, toAnchor] = [await signals(guest), await signals(anchor)];
  if (atGuest !== "hello from the anchor" || atAnchor !== "hello from the guest") {
    fail(`wrong messages: guest got ${atGuest}, anchor got ${atAnchor}`);
  }
  console.log(
    `costream: ok session ${session}; guest got "${atGuest}", anchor got "${atAnchor}"; ` +
      `signals to guest: ${toGuest.join(",")}; to anchor: ${toAnchor.join(",")}`,
  );
} finally {
  await browser.close();
}
