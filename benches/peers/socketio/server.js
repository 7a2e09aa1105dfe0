// Peer for comparison (target c), Socket.IO flavour: the same protocol
// subset and semantics as ws/server.js (hello, join/joined, comment/ack,
// like/ack, low-lane `events` batches per 100 ms tick with at most 2 comments
// per tick per room, high-lane `switches` batches, the coordinator's admin
// calls on the same port), carried over Socket.IO v4: every gateway frame, in
// both directions, is one `frame` event whose single argument is the frame's
// JSON object. Rooms are Socket.IO rooms and the per-tick broadcast goes
// through the Redis adapter (`io.to(room).emit`), as in a multi-node
// Socket.IO deployment. WebSocket transport only, no compression. Tokens are
// not checked (the handshake query `token` names the user).
//   node socketio/server.js 18096 --redis redis://127.0.0.1:6379
//   (or REDIS_URL=redis://... node socketio/server.js 18096)
//   optional: --ping-interval MS --ping-timeout MS (Engine.IO heartbeat: the
//   server pings, a client that has not answered within interval + timeout
//   is dropped; defaults 25000 and 20000)
'use strict';
const http = require('http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');

const USAGE = 'usage: node socketio/server.js PORT --redis redis://HOST:PORT [--ping-interval MS] [--ping-timeout MS] (or REDIS_URL=...)';

function parseArgs(argv) {
  const out = { port: 18096, redis: process.env.REDIS_URL || null, pingInterval: 25000, pingTimeout: 20000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--redis') out.redis = argv[++i] || null;
    else if (a.startsWith('--redis=')) out.redis = a.slice(8);
    else if (a === '--ping-interval') out.pingInterval = Number(argv[++i]);
    else if (a === '--ping-timeout') out.pingTimeout = Number(argv[++i]);
    else if (a === '-h' || a === '--help') { console.log(USAGE); process.exit(0); }
    else if (/^\d+$/.test(a)) out.port = Number(a);
    else { console.error(`socket.io peer: unknown argument ${a}\n${USAGE}`); process.exit(2); }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (!args.redis || !/^rediss?:\/\//.test(args.redis)) {
  console.error(`socket.io peer: a Redis URL is required (the broadcast goes through @socket.io/redis-adapter)\n${USAGE}`);
  process.exit(2);
}
if (!(args.pingInterval > 0) || !(args.pingTimeout > 0)) {
  console.error(`socket.io peer: --ping-interval and --ping-timeout take a positive number of ms\n${USAGE}`);
  process.exit(2);
}

const TICK_MS = 100;
const PER_TICK = 2;
const rooms = new Map();
const switchesOn = (sharing) => ({ comments: true, likes: true, anonymous_watch: true, sharing, replay: false, customer_service: false });

function room(id) {
  let r = rooms.get(id);
  if (!r) {
    r = { id, head: 0, highUpto: 0, lastUpto: 0, pending: [], high: [], sharing: true };
    rooms.set(id, r);
  }
  return r;
}

// Admin calls (the same routes as ws/server.js). Engine.IO takes the
// `/socket.io/` requests and hands every other request to this handler.
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

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: args.pingInterval,
  pingTimeout: args.pingTimeout,
});

let sessions = 0;
io.on('connection', (socket) => {
  const token = socket.handshake.query.token;
  const user = typeof token === 'string' && token ? token.replace(/^peer-/, '') : null;
  let joined = null;
  socket.emit('frame', { type: 'hello', session: String(++sessions), user, heartbeat_ms: 25000,
    idle_timeout_ms: 60000, max_frame_bytes: 8192, max_comment_chars: 100 });
  socket.on('frame', (f) => {
    if (!f || typeof f !== 'object') return;
    const id = f.id == null ? null : String(f.id);
    if (f.type === 'join') {
      if (joined) socket.leave(joined.id);
      joined = room(String(f.room));
      socket.join(joined.id);
      const online = io.sockets.adapter.rooms.get(joined.id)?.size ?? 0;
      socket.emit('frame', { type: 'joined', id, room: { id: joined.id, title: '', anchor: 'a', status: 101,
        planned_start: 0, planned_end: 99999999999999, live_started_at: 0, switches: switchesOn(joined.sharing) },
        role: user ? 'viewer' : 'anonymous', epoch: 'peer', offset: joined.head,
        totals: { likes: 0, comments: 0, viewers: 0, online }, recent: [], recovered: null, missed: [] });
    } else if (f.type === 'comment' && joined) {
      joined.head += 1;
      const ev = { offset: joined.head, ts: Date.now(), type: 'comment', user, nick: user, text: f.text, role: 'viewer' };
      joined.pending.push(ev);
      socket.emit('frame', { type: 'ack', id, event: ev, status: null });
    } else if (f.type === 'like' || f.type === 'ping') {
      socket.emit('frame', { type: 'ack', id, event: null, status: null });
    }
  });
});

setInterval(() => {
  for (const r of rooms.values()) {
    const upto = r.head;
    if (upto === r.lastUpto) continue;
    if (r.high.length) {
      io.to(r.id).emit('frame', { type: 'events', room: r.id, epoch: 'peer', lane: 'high', since: r.highUpto, upto, events: r.high, totals: null });
      r.highUpto = upto;
      r.high = [];
    }
    if (r.pending.length) {
      const pick = r.pending.slice(-PER_TICK);
      io.to(r.id).emit('frame', { type: 'events', room: r.id, epoch: 'peer', lane: 'low', since: r.lastUpto, upto, events: pick, totals: null });
      r.pending = [];
    }
    r.lastUpto = upto;
  }
}, TICK_MS);

async function main() {
  const pubClient = createClient({ url: args.redis });
  const subClient = pubClient.duplicate();
  let ready = false;
  for (const [name, c] of [['pub', pubClient], ['sub', subClient]]) {
    c.on('error', (e) => {
      console.error(`socket.io peer: redis ${name} client (${args.redis}): ${e.message || e}`);
      if (!ready) process.exit(1);
    });
  }
  await Promise.all([pubClient.connect(), subClient.connect()]);
  ready = true;
  io.adapter(createAdapter(pubClient, subClient));
  server.listen(args.port, '127.0.0.1', () =>
    console.log(`socket.io peer on ws://127.0.0.1:${args.port}/socket.io/ (redis adapter ${args.redis})`));
}

main().catch((e) => {
  console.error(`socket.io peer: ${e.message || e}`);
  process.exit(1);
});
