// How the console talks to the gateway. An operator (admin key) uses the
// admin HTTP API; a token user (anchor, sub-anchor, assistant) sends every
// action as a WebSocket request of the room it joined, so the server's
// permission matrix decides. Both answer refusals as {code, message}.

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The admin HTTP API with the bearer key. */
export class AdminApi {
  constructor(key) {
    this.key = key;
  }

  async call(method, path, body) {
    const init = { method, headers: { authorization: `Bearer ${this.key}` } };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(`/api${path}`, init);
    const text = await resp.text();
    let value = null;
    try {
      value = text ? JSON.parse(text) : null;
    } catch {
      value = text;
    }
    if (!resp.ok) {
      throw new ApiError(value?.code ?? `http_${resp.status}`, value?.message ?? text);
    }
    return value;
  }

  /** Fetches a file (CSV) with the key and hands it to the browser as a download. */
  async download(path, filename) {
    const resp = await fetch(`/api${path}`, { headers: { authorization: `Bearer ${this.key}` } });
    if (!resp.ok) throw new ApiError(`http_${resp.status}`, await resp.text());
    const url = URL.createObjectURL(await resp.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  /** Reads the dashboard's Server-Sent Events (fetch, since EventSource cannot send the key). */
  async stream(path, onEvent, signal) {
    const resp = await fetch(`/api${path}`, { headers: { authorization: `Bearer ${this.key}` }, signal });
    if (!resp.ok) throw new ApiError(`http_${resp.status}`, await resp.text());
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      let cut;
      while ((cut = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trim());
        }
        if (data.length) onEvent(event, JSON.parse(data.join("\n")));
      }
    }
  }
}

/**
 * Parts of a room's view kept by other modules (costream.js): each is
 * {joined(view, joined), event(view, event)}, called after the socket's
 * own handling, for every snapshot and every event, so a part is current
 * whichever page shows it. Modules register at import, before any socket opens.
 */
export const viewParts = [];

/** One WebSocket session joined to one room: its view of the room and its requests. */
export class RoomSocket {
  constructor(token, room) {
    this.token = token;
    this.room = room;
    this.pending = new Map();
    this.nextId = 1;
    this.listeners = new Set();
    this.view = { status: null, role: null, totals: null, comments: [], notice: null, lotteries: new Map(), stock: new Map(), card: null, explaining: null, coupon: null, pk: null, pkLast: null, pkLink: null };
    this.connected = false;
  }

  open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const q = this.token ? `?token=${encodeURIComponent(this.token)}` : "";
    this.ws = new WebSocket(`${proto}://${location.host}/ws${q}`, "live.json.v1");
    this.ws.onmessage = (m) => this.frame(JSON.parse(m.data));
    this.ws.onclose = () => {
      this.connected = false;
      for (const p of this.pending.values()) p.reject(new ApiError("closed", "connection closed"));
      this.pending.clear();
      this.emit();
    };
    return new Promise((resolve, reject) => {
      this.ws.onopen = async () => {
        try {
          const j = await this.request({ type: "join", room: this.room });
          this.connected = true;
          this.joined(j);
          resolve(this);
        } catch (e) {
          reject(e);
        }
      };
      this.ws.onerror = () => reject(new ApiError("unavailable", "WebSocket failed"));
    });
  }

  close() {
    this.ws?.close(1000);
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit() {
    for (const fn of this.listeners) fn(this.view);
  }

  request(body) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ ...body, id }));
    });
  }

  joined(j) {
    const v = this.view;
    v.status = j.room.status;
    v.switches = j.room.switches;
    v.role = j.role;
    v.totals = j.totals;
    v.comments = j.recent.slice();
    v.notice = j.notice?.notice ?? null;
    v.card = j.commerce.card;
    v.explaining = j.commerce.explaining;
    v.coupon = j.commerce.coupon;
    for (const l of j.lotteries) v.lotteries.set(l.lottery, l);
    for (const p of viewParts) p.joined(v, j);
    v.pk = j.pk ?? null; // the running PK (pk.js)
    v.pkLink = j.costream?.link ?? null;
    this.emit();
  }

  frame(f) {
    if (f.id != null && this.pending.has(f.id)) {
      const p = this.pending.get(f.id);
      this.pending.delete(f.id);
      if (f.type === "error") p.reject(new ApiError(f.code, f.message));
      else p.resolve(f);
      return;
    }
    if (f.type !== "events") return;
    if (f.totals) this.view.totals = f.totals;
    for (const e of f.events) this.event(e);
    this.emit();
  }

  event(e) {
    const v = this.view;
    switch (e.type) {
      case "comment":
        if (e.offset > 0 && !v.comments.some((c) => c.offset === e.offset)) {
          v.comments.push(e);
          if (v.comments.length > 200) v.comments.shift();
        }
        break;
      case "comment_deleted":
      case "user_purged":
        v.comments = v.comments.filter((c) => !e.offsets.includes(c.offset) && !(e.type === "user_purged" && c.user === e.user));
        break;
      case "status":
        v.status = e.status;
        break;
      case "switches":
        v.switches = { ...e, offset: undefined, ts: undefined, type: undefined };
        break;
      case "notice":
        v.notice = e.action === "pushed" ? e.notice : null;
        break;
      case "lottery":
        v.lotteries.set(e.lottery, { ...v.lotteries.get(e.lottery), ...e });
        break;
      case "stock":
        v.stock.set(e.goods, e.remaining);
        break;
      case "sold_out":
        v.stock.set(e.goods, 0);
        break;
      case "card":
        v.card = e.card;
        break;
      case "explaining":
        v.explaining = e.goods;
        break;
      case "coupon":
        v.coupon = e.coupon;
        break;
      case "pk":
        v.pk = e.state === "ended" ? null : e;
        if (e.state === "ended") v.pkLast = e;
        break;
      case "link":
        v.pkLink = e.link;
        break;
    }
    for (const p of viewParts) p.event(v, e);
  }
}

const enc = encodeURIComponent;

/** Room actions of an operator: the admin HTTP API. */
export function adminOps(api, room, socket) {
  const r = `/rooms/${enc(room)}`;
  return {
    live: (action) => api.call("POST", `${r}/live`, { action }),
    pushNotice: (text) => api.call("PUT", `${r}/notice`, { text }),
    withdrawNotice: () => api.call("DELETE", `${r}/notice`),
    shelf: async () => api.call("GET", `${r}/goods`),
    goodsPut: (item) => api.call("PUT", `${r}/goods/${enc(item.id)}`, item),
    goodsSwitch: (gid, grabbable) => api.call("PUT", `${r}/goods/${enc(gid)}/grabbable`, { grabbable }),
    cardPush: (goods, duration_s) => api.call("PUT", `${r}/card`, { goods, duration_s }),
    explain: (goods) => api.call("PUT", `${r}/explaining`, { goods }),
    couponPush: (coupon) => api.call("PUT", `${r}/coupon`, coupon),
    lotteryCreate: (terms) => api.call("POST", `${r}/lotteries`, terms),
    lotteryStart: (lid) => api.call("POST", `${r}/lotteries/${enc(lid)}/start`),
    lotteries: async () => (await api.call("GET", `${r}/lotteries`)).lotteries,
    deleteComment: (offset) => api.call("DELETE", `${r}/comments/${offset}`),
    mute: (user, duration_s, shadow) => api.call("POST", `${r}/mutes`, { user, duration_s, shadow }),
    unmute: (user) => api.call("DELETE", `${r}/mutes/${enc(user)}`),
    mutes: () => api.call("GET", `${r}/mutes`),
    switchComments: async (comments) => {
      const room = await api.call("GET", r);
      return api.call("PATCH", r, { switches: { ...room.switches, comments } });
    },
    words: (add, remove) => api.call("POST", `${r}/words`, { add, remove }),
    allowWords: (allow_add, allow_remove) => api.call("POST", `${r}/words`, { allow_add, allow_remove }),
    wordList: () => api.call("GET", `${r}/words`),
    socket,
  };
}

/** Room actions of a token user: WebSocket requests, checked by the server's permission matrix. */
export function tokenOps(socket) {
  const req = (body) => socket.request(body);
  return {
    live: (action) => req({ type: "live", action }),
    pushNotice: (text) => req({ type: "push_notice", text }),
    withdrawNotice: () => req({ type: "withdraw_notice" }),
    shelf: async () => {
      const s = await req({ type: "shelf" });
      return { version: s.version, items: s.items, explaining: s.explaining, card: socket.view.card, coupon: socket.view.coupon };
    },
    goodsPut: (goods) => req({ type: "goods_put", goods }),
    goodsSwitch: (goods, grabbable) => req({ type: "goods_switch", goods, grabbable }),
    cardPush: (goods, duration_s) => req({ type: "card_push", goods, duration_s }),
    explain: (goods) => req({ type: "explain", goods }),
    couponPush: (coupon) => req({ type: "coupon_push", coupon }),
    lotteryCreate: (terms) => req({ type: "lottery_create", ...terms }),
    lotteryStart: (lottery) => req({ type: "lottery_start", lottery }),
    lotteries: async () => [...socket.view.lotteries.values()].map((l) => ({ id: l.lottery, state: l.state, kind: l.terms?.kind, prize: l.terms?.prize, winners: l.winners ?? [] })),
    deleteComment: (offset) => req({ type: "delete_comment", offset }),
    mute: (user, duration_s, shadow) => req({ type: "mute", user, duration_s, shadow }),
    unmute: (user) => req({ type: "unmute", user }),
    mutes: async () => (await req({ type: "mutes" })).mutes,
    switchComments: (comments) => req({ type: "switch", comments }),
    words: (add, remove) => req({ type: "words", add, remove }),
    allowWords: (add, remove) => req({ type: "allow_words", add, remove }),
    wordList: null,
    socket,
  };
}
