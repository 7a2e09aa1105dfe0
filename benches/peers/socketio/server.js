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
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const peer = require('../common');

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

// Room state, the admin calls (Engine.IO takes the `/socket.io/` requests
// and hands every other request to them), frames and the tick: ../common.js.
const server = peer.adminServer();

const io = new Server(server, {
  transports: ['websocket'],
  perMessageDeflate: false,
  httpCompression: false,
  serveClient: false,
  pingInterval: args.pingInterval,
  pingTimeout: args.pingTimeout,
});

io.on('connection', (socket) => {
  const token = socket.handshake.query.token;
  const user = typeof token === 'string' && token ? token.replace(/^peer-/, '') : null;
  let joined = null;
  socket.emit('frame', peer.hello(user));
  socket.on('frame', (f) => {
    if (!f || typeof f !== 'object') return;
    const id = f.id == null ? null : String(f.id);
    if (f.type === 'join') {
      if (joined) socket.leave(joined.id);
      joined = peer.room(String(f.room));
      socket.join(joined.id);
      const online = io.sockets.adapter.rooms.get(joined.id)?.size ?? 0;
      socket.emit('frame', peer.joined(id, joined, user, online));
    } else if (f.type === 'comment' && joined) {
      socket.emit('frame', peer.comment(id, joined, user, f.text));
    } else if (f.type === 'like' || f.type === 'ping') {
      socket.emit('frame', peer.ack(id));
    }
  });
});

// Each batch goes through the Redis adapter, as in a multi-node deployment.
peer.everyTick((r, batches) => {
  for (const b of batches) io.to(r.id).emit('frame', b);
});

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
