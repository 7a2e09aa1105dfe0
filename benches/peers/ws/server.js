// Peer for comparison (target c): the gateway's JSON protocol subset that
// `loadtest` uses (hello, join/joined, comment/ack, like/ack, low-lane
// `events` batches per 100 ms tick with at most 2 comments per tick per room
// = the gateway's 20/s cap, high-lane `switches` batches), plus the admin
// calls the coordinator makes (create/start room, tokens, PATCH switches).
// One Node process, the `ws` package. Tokens are not checked.
//   node ws/server.js 18092
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 18092);
const TICK_MS = 100;
const PER_TICK = 2;
const rooms = new Map();
const switchesOn = (sharing) => ({ comments: true, likes: true, anonymous_watch: true, sharing, replay: false, customer_service: false });

function room(id) {
  let r = rooms.get(id);
  if (!r) {
    r = { id, members: new Set(), head: 0, highUpto: 0, lastUpto: 0, pending: [], high: [], sharing: true };
    rooms.set(id, r);
  }
  return r;
}

const server = http.createServer((req, res) => {
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
});

const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false,
  handleProtocols: (p) => (p.has('live.json.v1') ? 'live.json.v1' : false) });
let sessions = 0;
wss.on('connection', (ws, req) => {
  const token = new URL(req.url, 'http://x').searchParams.get('token');
  const user = token ? token.replace(/^peer-/, '') : null;
  let joined = null;
  ws.send(JSON.stringify({ type: 'hello', session: String(++sessions), user, heartbeat_ms: 25000,
    idle_timeout_ms: 60000, max_frame_bytes: 8192, max_comment_chars: 100 }));
  ws.on('message', (data) => {
    let f;
    try { f = JSON.parse(data); } catch (_) { return; }
    const id = f.id == null ? null : String(f.id);
    if (f.type === 'join') {
      if (joined) joined.members.delete(ws);
      joined = room(f.room);
      joined.members.add(ws);
      ws.send(JSON.stringify({ type: 'joined', id, room: { id: joined.id, title: '', anchor: 'a', status: 101,
        planned_start: 0, planned_end: 99999999999999, live_started_at: 0, switches: switchesOn(joined.sharing) },
        role: user ? 'viewer' : 'anonymous', epoch: 'peer', offset: joined.head,
        totals: { likes: 0, comments: 0, viewers: 0, online: joined.members.size }, recent: [], recovered: null, missed: [] }));
    } else if (f.type === 'comment' && joined) {
      joined.head += 1;
      const ev = { offset: joined.head, ts: Date.now(), type: 'comment', user, nick: user, text: f.text, role: 'viewer' };
      joined.pending.push(ev);
      ws.send(JSON.stringify({ type: 'ack', id, event: ev, status: null }));
    } else if (f.type === 'like' || f.type === 'ping') {
      ws.send(JSON.stringify({ type: 'ack', id, event: null, status: null }));
    }
  });
  ws.on('close', () => { if (joined) joined.members.delete(ws); });
});

setInterval(() => {
  for (const r of rooms.values()) {
    const upto = r.head;
    if (upto === r.lastUpto) continue;
    const frames = [];
    if (r.high.length) {
      frames.push(JSON.stringify({ type: 'events', room: r.id, epoch: 'peer', lane: 'high', since: r.highUpto, upto, events: r.high, totals: null }));
      r.highUpto = upto;
      r.high = [];
    }
    if (r.pending.length) {
      const pick = r.pending.slice(-PER_TICK);
      frames.push(JSON.stringify({ type: 'events', room: r.id, epoch: 'peer', lane: 'low', since: r.lastUpto, upto, events: pick, totals: null }));
      r.pending = [];
    }
    r.lastUpto = upto;
    for (const ws of r.members) for (const f of frames) ws.send(f);
  }
}, TICK_MS);

server.listen(port, '127.0.0.1', () => console.log(`ws peer on ws://127.0.0.1:${port}/ws`));
