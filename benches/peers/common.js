// What the comparison peers share (docs/benchmarks.md, target c): room state,
// the admin calls the loadtest coordinator makes (create/start room, tokens,
// PATCH switches as high-lane probes), the hello/joined/ack frames, and the
// 100 ms tick that batches a room's events with at most 2 comments per
// low-lane batch (the gateway's 20/s cap). Each peer only carries frames.
'use strict';
const http = require('http');

const TICK_MS = 100;
const PER_TICK = 2;

const switchesOn = (sharing) => ({ comments: true, likes: true, anonymous_watch: true, sharing, replay: false, customer_service: false });

const rooms = new Map();

/** The room `id`, created on first use. */
function room(id) {
  let r = rooms.get(id);
  if (!r) {
    r = { id, members: new Set(), head: 0, highUpto: 0, lastUpto: 0, pending: [], high: [], sharing: true };
    rooms.set(id, r);
  }
  return r;
}

/** The admin routes the loadtest coordinator calls. */
function adminHandler(req, res) {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    let j = {};
    try { j = body ? JSON.parse(body) : {}; } catch (_) { /* empty */ }
    const send = (code, v) => { res.writeHead(code, { 'content-type': 'application/json' }); res.end(JSON.stringify(v)); };
    const m = req.url.match(/^\/api\/rooms(?:\/([^/]+))?(\/live)?$/);
    if (req.url === '/api/tokens') return send(200, { token: 'peer-' + (j.user || 'x') });
    if (m && req.method === 'POST' && !m[1]) { room(j.id); return send(201, { id: j.id }); }
    if (m && m[2]) return send(200, { id: m[1], status: 101 });
    if (m && req.method === 'PATCH') {
      const r = room(m[1]);
      r.sharing = j.switches ? !!j.switches.sharing : r.sharing;
      r.head += 1;
      r.high.push({ offset: r.head, ts: Date.now(), type: 'switches', ...switchesOn(r.sharing) });
      return send(200, { id: m[1] });
    }
    send(404, { code: 'not_found' });
  });
}

const adminServer = () => http.createServer(adminHandler);

let sessions = 0;
const hello = (user) => ({ type: 'hello', session: String(++sessions), user, heartbeat_ms: 25000,
  idle_timeout_ms: 60000, max_frame_bytes: 8192, max_comment_chars: 100 });

const joined = (id, r, user, online) => ({ type: 'joined', id, room: { id: r.id, title: '', anchor: 'a', status: 101,
  planned_start: 0, planned_end: 99999999999999, live_started_at: 0, switches: switchesOn(r.sharing) },
  role: user ? 'viewer' : 'anonymous', epoch: 'peer', offset: r.head,
  totals: { likes: 0, comments: 0, viewers: 0, online }, recent: [], recovered: null, missed: [] });

/** Appends a comment to room `r`; returns its `ack` frame. */
function comment(id, r, user, text) {
  r.head += 1;
  const ev = { offset: r.head, ts: Date.now(), type: 'comment', user, nick: user, text, role: 'viewer' };
  r.pending.push(ev);
  return { type: 'ack', id, event: ev, status: null };
}

const ack = (id) => ({ type: 'ack', id, event: null, status: null });

/** Every TICK_MS: `send(room, batches)` for each room with new events. */
function everyTick(send) {
  setInterval(() => {
    for (const r of rooms.values()) {
      const upto = r.head;
      if (upto === r.lastUpto) continue;
      const batches = [];
      if (r.high.length) {
        batches.push({ type: 'events', room: r.id, epoch: 'peer', lane: 'high', since: r.highUpto, upto, events: r.high, totals: null });
        r.highUpto = upto;
        r.high = [];
      }
      if (r.pending.length) {
        batches.push({ type: 'events', room: r.id, epoch: 'peer', lane: 'low', since: r.lastUpto, upto, events: r.pending.slice(-PER_TICK), totals: null });
        r.pending = [];
      }
      r.lastUpto = upto;
      send(r, batches);
    }
  }, TICK_MS);
}

module.exports = { adminServer, room, hello, joined, comment, ack, everyTick };
