// An anchor-to-anchor link in two real browsers: the anchor of room A (on
// node A) invites the anchor of room B (on node B), who accepts; both open
// a WebRTC data channel whose only signalling is the gateway's `signal`
// relay (`link: true`) and send a message each way. Usage:
//   node browser/link.mjs PAGE_URL ROOM_A WS_A TOKEN_A ROOM_B WS_B TOKEN_B
// Prints "link: ok ..." and exits 0, or says what failed and exits 1.
import { launch } from "./launch.mjs";

const [pageUrl, roomA, wsA, tokenA, roomB, wsB, tokenB] = process.argv.slice(2);
const fail = (msg) => {
  console.error(`link: ${msg}`);
  process.exit(1);
};
if (!tokenB) fail("usage: link.mjs PAGE_URL ROOM_A WS_A TOKEN_A ROOM_B WS_B TOKEN_B");
setTimeout(() => fail("timed out"), 60_000).unref();

const browser = await launch([
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--allow-loopback-in-peer-connection",
]);
try {
  const a = await browser.newPage();
  const b = await browser.newPage();
  await a.goto(pageUrl);
  await b.goto(pageUrl);
  const must = async (page, body, what) => {
    const r = await page.evaluate((x) => window.request(x), body);
    if (r.type !== "ack" && r.type !== "joined") fail(`${what}: ${JSON.stringify(r)}`);
    return r;
  };
  await a.evaluate(([u, t]) => window.connect(u, t), [wsA, tokenA]);
  await b.evaluate(([u, t]) => window.connect(u, t), [wsB, tokenB]);
  await must(a, { type: "join", room: roomA }, "join A");
  await must(b, { type: "join", room: roomB }, "join B");
  const invited = await must(a, { type: "link", action: "invite", room: roomB }, "invite");
  const id = invited.event.link.link;
  await b.evaluate(() => window.waitEvent("link_step", "phase", "invited"));
  const live = await must(b, { type: "link", action: "accept", room: roomA, link: id }, "accept");
  if (live.event.phase !== "live") fail(`not live: ${JSON.stringify(live)}`);
  await a.evaluate(() => window.waitEvent("link", "reason", "started"));
  await b.evaluate(() => window.waitEvent("link", "reason", "started"));
  await b.evaluate((s) => window.answerCalls(s, true), id);
  await a.evaluate((s) => window.call(s, true), id);
  await a.evaluate(() => window.channelOpen());
  await b.evaluate(() => window.channelOpen());
  await a.evaluate(() => window.send("hello from room A"));
  await b.waitForFunction(() => window.client.received.length > 0);
  await b.evaluate(() => window.send("hello from room B"));
  await a.waitForFunction(() => window.client.received.length > 0);
  const problems = [
    ...(await a.evaluate(() => window.client.failures)),
    ...(await b.evaluate(() => window.client.failures)),
  ];
  if (problems.length) fail(`signalling refused: ${problems.join("; ")}`);
  const [atB, atA] = [
    await b.evaluate(() => window.client.received[0]),
    await a.evaluate(() => window.client.received[0]),
  ];
  if (atB !== "hello from room A" || atA !== "hello from room B") {
    fail(`wrong messages: B got ${atB}, A got ${atA}`);
  }
  console.log(`link: ok link ${id}; B got "${atB}", A got "${atA}"`);
} finally {
  await browser.close();
}
