// Peer for comparison (target c): the gateway's JSON protocol subset that
// `loadtest` uses (hello, join/joined, comment/ack, like/ack, low-lane
// `events` batches per 100 ms tick with at most 2 comments per tick per room
// = the gateway's 20/s cap, high-lane `switches` batches), plus the admin
// calls the coordinator makes (create/start room, tokens, PATCH switches);
// both from ../common.js. One Node process, the `ws` package. Tokens are not
// checked.
//   node ws/server.js 18092
'use strict';
const { WebSocketServer } = require('ws');
const peer = require('../common');

const port = Number(process.argv[2] || 18092);
const server = peer.adminServer();
const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false,
  handleProtocols: (p) => (p.has('live.json.v1') ? 'live.json.v1' : false) });
wss.on('connection', (ws, req) => {
  const token = new URL(req.url, 'http://x').searchParams.get('token');
  const user = token ? token.replace(/^peer-/, '') : null;
  let joined = null;
  ws.send(JSON.stringify(peer.hello(user)));
  ws.on('message', (data) => {
    let f;
    try { f = JSON.parse(data); } catch (_) { return; }
    const id = f.id == null ? null : String(f.id);
    if (f.type === 'join') {
      if (joined) joined.members.delete(ws);
      joined = peer.room(f.room);
      joined.members.add(ws);
      ws.send(JSON.stringify(peer.joined(id, joined, user, joined.members.size)));
    } else if (f.type === 'comment' && joined) {
      ws.send(JSON.stringify(peer.comment(id, joined, user, f.text)));
    } else if (f.type === 'like' || f.type === 'ping') {
      ws.send(JSON.stringify(peer.ack(id)));
    }
  });
  ws.on('close', () => { if (joined) joined.members.delete(ws); });
});

peer.everyTick((r, batches) => {
  const frames = batches.map((b) => JSON.stringify(b));
  for (const ws of r.members) for (const f of frames) ws.send(f);
});

server.listen(port, '127.0.0.1', () => console.log(`ws peer on ws://127.0.0.1:${port}/ws`));
