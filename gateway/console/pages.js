// The console's pages. Each returns {el, cleanup?}. Room pages act through
// the room's ops (admin HTTP or WebSocket requests); nothing here decides a
// permission: a refused action shows the server's code.
import { t, statusName } from "./i18n.js";
import { h, act, flash, session, roomOf, setCurrentRoom, render } from "./app.js";
import { costreamSection } from "./costream.js";
import { pkCard } from "./pk.js";

const isAdmin = () => session.mode === "admin";
const enc = encodeURIComponent;
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : "–");
const toLocalInput = (ms) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
};
const fromLocalInput = (v) => new Date(v).getTime();
const SWITCHES = ["comments", "likes", "anonymous_watch", "sharing", "replay", "customer_service"];

function field(label, input) {
  return h("label", {}, h("span", {}, label), input);
}

function section(titleKey, ...body) {
  return h("section", { class: "card", id: `sec-${titleKey}` }, h("h2", {}, t(titleKey)), ...body);
}

function operatorOnly() {
  return h("p", { class: "muted" }, t("operator_only"));
}

/** The room picker shown on room pages. */
function roomBar(extra) {
  const input = h("input", { id: "room-pick", value: session.current, placeholder: t("room_id_hint") });
  return h("form", { class: "roombar", onsubmit: (e) => { e.preventDefault(); setCurrentRoom(input.value.trim()); render(); } },
    field(t("room"), input), h("button", { id: "room-open" }, t("open")), extra ?? null);
}

async function withRoom(build) {
  if (!session.current) return { el: h("div", {}, roomBar()) };
  const room = await roomOf(session.current);
  return build(room);
}

// ---------------------------------------------------------------- rooms

async function rooms() {
  if (!isAdmin()) return { el: h("div", {}, section("open_room", roomBar()), operatorOnly()) };
  const api = session.api;
  const list = await api.call("GET", "/rooms");
  const stats = await Promise.all(list.map((r) => api.call("GET", `/rooms/${enc(r.id)}/stats`).catch(() => null)));
  const actions = (r) => ["start", "pause", "resume", "end", "ban"].map((a) =>
    h("button", { class: a === "ban" ? "danger" : null, "data-action": a, onclick: () => act(() => api.call("POST", `/rooms/${enc(r.id)}/live`, { action: a }), render) }, t(a)));
  const table = h("table", { id: "rooms-table" },
    h("tr", {}, ["id", "room_title", "anchor", "status", "online", "planned_start", "actions"].map((k) => h("th", {}, t(k)))),
    list.map((r, i) => h("tr", { "data-room": r.id },
      h("td", {}, r.id), h("td", {}, r.title), h("td", {}, r.anchor),
      h("td", { class: "status" }, statusName(r.status)), h("td", { class: "online" }, stats[i]?.totals?.online ?? "–"),
      h("td", {}, fmtTime(r.planned_start)),
      h("td", {}, actions(r),
        h("button", { "data-action": "edit", onclick: () => fillEdit(r) }, t("edit")),
        h("button", { "data-action": "open", onclick: () => { setCurrentRoom(r.id); location.hash = "#/control"; } }, t("open"))))),
  );

  const f = {
    id: h("input", { id: "new-id" }), title: h("input", { id: "new-title" }), anchor: h("input", { id: "new-anchor" }),
    start: h("input", { id: "new-start", type: "datetime-local", value: toLocalInput(Date.now()) }),
    end: h("input", { id: "new-end", type: "datetime-local", value: toLocalInput(Date.now() + 86400000) }),
  };
  const sw = Object.fromEntries(SWITCHES.map((s) => [s, h("input", { type: "checkbox", id: `new-sw-${s}`, checked: ["comments", "likes", "anonymous_watch", "sharing"].includes(s) })]));
  const editing = { id: null };
  const submit = h("button", { id: "room-save" }, t("create"));
  const slow = h("input", { id: "new-slow", type: "number", min: 0, max: 3600, value: 0 });
  function fillEdit(r) {
    editing.id = r.id;
    f.id.value = r.id;
    f.id.disabled = true;
    f.title.value = r.title;
    f.anchor.value = r.anchor;
    f.start.value = toLocalInput(r.planned_start);
    f.end.value = toLocalInput(r.planned_end);
    for (const s of SWITCHES) sw[s].checked = r.switches[s];
    slow.value = r.moderation?.slow_mode_s ?? 0;
    submit.textContent = t("save");
  }
  const form = h("form", { id: "room-form", onsubmit: (e) => {
    e.preventDefault();
    const body = {
      title: f.title.value, anchor: f.anchor.value.trim(),
      planned_start: fromLocalInput(f.start.value), planned_end: fromLocalInput(f.end.value),
      switches: Object.fromEntries(SWITCHES.map((s) => [s, sw[s].checked])),
    };
    if (editing.id) act(() => api.call("PATCH", `/rooms/${enc(editing.id)}`, { ...body, slow_mode_s: Number(slow.value) }), render);
    else act(() => api.call("POST", "/rooms", { id: f.id.value.trim(), ...body }), render);
  } },
  field(t("id"), f.id), field(t("room_title"), f.title), field(t("anchor"), f.anchor),
  field(t("planned_start"), f.start), field(t("planned_end"), f.end), field(t("slow_mode"), slow),
  h("fieldset", {}, h("legend", {}, t("switches")), SWITCHES.map((s) => h("label", { class: "inline" }, sw[s], t(s)))),
  submit);

  const ru = h("input", { id: "role-user" }), rr = h("select", { id: "role-role" }, ["assistant", "sub_anchor", "viewer"].map((r) => h("option", { value: r }, t(r))));
  const rn = h("input", { id: "role-nick" }), rroom = h("input", { id: "role-room", value: session.current });
  const roles = h("form", { id: "role-form", onsubmit: (e) => {
    e.preventDefault();
    act(() => api.call("PUT", `/rooms/${enc(rroom.value.trim())}/roles/${enc(ru.value.trim())}`, { role: rr.value, nick: rn.value || undefined }));
  } }, field(t("room"), rroom), field(t("user"), ru), field(t("role"), rr), field(t("nick"), rn), h("button", { id: "role-save" }, t("set_role")));

  return { el: h("div", {}, section("nav_rooms", table), section("create_room", form), section("roles", roles)) };
}

// ---------------------------------------------------------------- room control

async function control() {
  return withRoom(async ({ socket, ops }) => {
    const state = h("div", { id: "live-state" });
    const paint = (v) => {
      state.replaceChildren(
        h("p", {}, `${t("status")}: `, h("b", { id: "room-status" }, statusName(v.status)), ` · ${t("role")}: `, h("b", { id: "my-role" }, v.role),
          ` · ${t("online")}: `, h("b", { id: "room-online" }, v.totals?.online ?? 0), ` · ${t("likes")}: ${v.totals?.likes ?? 0} · ${t("comments")}: ${v.totals?.comments ?? 0}`),
        h("p", { id: "notice-now" }, `${t("current_notice")}: `, v.notice ? `${v.notice.text} (${t("until")} ${fmtTime(v.notice.until)})` : t("none")),
        h("p", {}, `${t("explaining")}: ${v.explaining ?? t("none")} · ${t("push_card")}: ${v.card?.goods?.name ?? v.card?.goods ?? t("none")} · ${t("coupons")}: ${v.coupon?.name ?? t("none")}`),
      );
    };
    paint(socket.view);
    const off = socket.on(paint);
    const live = ["start", "pause", "resume", "end"].map((a) => h("button", { id: `live-${a}`, onclick: () => act(() => ops.live(a)) }, t(a)));

    const nt = h("input", { id: "notice-text", maxlength: 34 });
    const notice = h("form", { onsubmit: (e) => { e.preventDefault(); act(() => ops.pushNotice(nt.value)); } },
      field(t("notice_text"), nt), h("button", { id: "notice-push" }, t("push")),
      h("button", { type: "button", id: "notice-withdraw", onclick: () => act(() => ops.withdrawNotice()) }, t("withdraw")));

    // Goods shelf.
    const shelf = h("div", { id: "shelf" });
    const loadShelf = async () => {
      const s = await ops.shelf().catch((e) => { flash(false, `${e.code} ${e.message}`, e.code); return { items: [] }; });
      shelf.replaceChildren(h("table", {},
        h("tr", {}, ["goods_id", "name", "live_price", "quota", "stock", "grabbable", "actions"].map((k) => h("th", {}, t(k)))),
        s.items.map((g) => h("tr", { "data-goods": g.id },
          h("td", {}, g.id), h("td", {}, g.name), h("td", {}, g.live_price), h("td", {}, g.quota),
          h("td", { class: "stock" }, socket.view.stock.get(g.id) ?? "–"),
          h("td", {}, g.grabbable ? t("grabbable") : t("not_grabbable")),
          h("td", {},
            h("button", { "data-action": "card", onclick: () => act(() => ops.cardPush(g.id, 60)) }, t("push_card")),
            h("button", { "data-action": "explain", onclick: () => act(() => ops.explain(s.explaining === g.id ? null : g.id), loadShelf) }, s.explaining === g.id ? t("unexplain") : t("explain")),
            h("button", { "data-action": "switch", onclick: () => act(() => ops.goodsSwitch(g.id, !g.grabbable), loadShelf) }, g.grabbable ? t("not_grabbable") : t("grabbable")))))));
    };
    const gf = { id: h("input", { id: "goods-id" }), name: h("input", { id: "goods-name" }), cover: h("input", { id: "goods-cover", value: "https://img.example/g.png" }),
      price: h("input", { id: "goods-price", type: "number", value: 19900 }), live: h("input", { id: "goods-live-price", type: "number", value: 12900 }),
      quota: h("input", { id: "goods-quota", type: "number", value: 100 }), limit: h("input", { id: "goods-order-limit", type: "number", value: 2 }),
      mode: h("select", { id: "goods-mode" }, h("option", { value: "now" }, t("mode_now")), h("option", { value: "on_switch" }, t("mode_on_switch"))) };
    const goodsForm = h("form", { id: "goods-form", onsubmit: (e) => {
      e.preventDefault();
      act(() => ops.goodsPut({ id: gf.id.value.trim(), name: gf.name.value, cover_url: gf.cover.value, price: Number(gf.price.value), live_price: Number(gf.live.value),
        quota: Number(gf.quota.value), order_limit: Number(gf.limit.value), viewer_limit: null, mode: gf.mode.value }), loadShelf);
    } }, field(t("goods_id"), gf.id), field(t("name"), gf.name), field(t("cover_url"), gf.cover), field(t("price"), gf.price),
    field(t("live_price"), gf.live), field(t("quota"), gf.quota), field(t("order_limit"), gf.limit), field(t("mode"), gf.mode), h("button", { id: "goods-save" }, t("put_goods")));
    const offStock = socket.on(() => {
      for (const tr of shelf.querySelectorAll("tr[data-goods]")) {
        const left = socket.view.stock.get(tr.dataset.goods);
        if (left != null) tr.querySelector(".stock").textContent = left;
      }
    });

    const cf = { id: h("input", { id: "coupon-id" }), name: h("input", { id: "coupon-name" }), stock: h("input", { id: "coupon-stock", type: "number", value: 100 }), per: h("input", { id: "coupon-per", type: "number", value: 1 }) };
    const coupon = h("form", { onsubmit: (e) => { e.preventDefault(); act(() => ops.couponPush({ id: cf.id.value.trim(), name: cf.name.value, stock: Number(cf.stock.value), per_viewer: Number(cf.per.value), valid_from: null, valid_until: null })); } },
      field(t("coupon_id"), cf.id), field(t("name"), cf.name), field(t("coupon_stock"), cf.stock), field(t("per_viewer"), cf.per), h("button", { id: "coupon-push" }, t("push")));

    // Lotteries.
    const lots = h("div", { id: "lotteries" });
    const loadLots = async () => {
      const list = await ops.lotteries().catch(() => []);
      lots.replaceChildren(h("table", {},
        h("tr", {}, ["id", "kind", "state", "prize", "results", "actions"].map((k) => h("th", {}, t(k)))),
        list.map((l) => h("tr", { "data-lottery": l.id },
          h("td", {}, l.id), h("td", {}, l.kind ?? l.terms?.kind), h("td", { class: "state" }, l.state), h("td", {}, l.terms?.prize ?? l.prize ?? ""),
          h("td", {}, (l.winners ?? []).map((w) => `${w.user}:${w.code}`).join(", ")),
          h("td", {}, h("button", { "data-action": "start", onclick: () => act(() => ops.lotteryStart(l.id), loadLots) }, t("start")),
            isAdmin() ? h("button", { "data-action": "export", onclick: () => act(() => session.api.download(`/rooms/${enc(session.current)}/lotteries/${enc(l.id)}/winners.csv`, `${l.id}-winners.csv`)) }, t("export_winners")) : null)))));
    };
    const lf = { kind: h("select", { id: "lottery-kind" }, h("option", { value: "comment" }, t("lottery_comment")), h("option", { value: "like" }, t("lottery_like"))),
      keyword: h("input", { id: "lottery-keyword" }), duration: h("input", { id: "lottery-duration", type: "number", value: 60 }),
      winners: h("input", { id: "lottery-winners", type: "number", value: 1 }), prize: h("input", { id: "lottery-prize" }), rules: h("input", { id: "lottery-rules" }) };
    const lotForm = h("form", { onsubmit: (e) => { e.preventDefault();
      act(() => ops.lotteryCreate({ kind: lf.kind.value, keyword: lf.keyword.value || null, duration_s: Number(lf.duration.value), winners: Number(lf.winners.value), prize: lf.prize.value, rules: lf.rules.value }), loadLots); } },
    field(t("kind"), lf.kind), field(t("keyword"), lf.keyword), field(t("duration_s"), lf.duration), field(t("winners"), lf.winners), field(t("prize"), lf.prize), field(t("rules"), lf.rules),
    h("button", { id: "lottery-create" }, t("create")));
    const offLots = socket.on(() => { if (!isAdmin()) loadLots(); });

    await Promise.all([loadShelf(), loadLots()]);
    const pk = pkCard({ socket, api: isAdmin() ? session.api : null, room: session.current });
    return {
      el: h("div", {}, roomBar(),
        section("live_state", state, h("div", { class: "buttons" }, live)),
        section("notices", notice),
        section("goods", goodsForm, shelf),
        section("coupons", coupon),
        section("lotteries", lotForm, lots),
        costreamSection(socket, pk.el)),
      cleanup: () => { off(); offStock(); offLots(); pk.cleanup(); },
    };
  });
}

// ---------------------------------------------------------------- moderation

async function moderation() {
  return withRoom(async ({ socket, ops }) => {
    const stream = h("ul", { id: "comment-stream" });
    const mutes = h("div", { id: "mute-list" });
    const loadMutes = async () => {
      const list = await ops.mutes().catch((e) => { flash(false, `${e.code} ${e.message}`, e.code); return []; });
      mutes.replaceChildren(h("table", {}, h("tr", {}, ["user", "until", "shadow_mute", "actions"].map((k) => h("th", {}, t(k)))),
        list.map((m) => h("tr", { "data-user": m.user }, h("td", {}, m.user), h("td", {}, m.until_ms ? fmtTime(m.until_ms) : t("forever")), h("td", {}, m.shadow ? "✓" : ""),
          h("td", {}, h("button", { "data-action": "unmute", onclick: () => act(() => ops.unmute(m.user), loadMutes) }, t("unmute")))))));
    };
    let shown = null;
    const paint = (v) => {
      banState.textContent = v.switches?.comments === false ? t("comments_off") : t("comments_on");
      // Repaint the stream only when its comments changed, not on every totals frame.
      const key = v.comments.map((c) => c.offset).join(",");
      if (key === shown) return;
      shown = key;
      stream.replaceChildren(...v.comments.slice(-100).map((c) => h("li", { "data-offset": c.offset, "data-user": c.user },
        h("span", { class: "who" }, `${c.nick} (${c.user}, ${c.role})`), " ", h("span", { class: "text" }, c.text), " ",
        h("button", { "data-action": "delete", onclick: () => act(() => ops.deleteComment(c.offset)) }, t("delete")),
        h("button", { "data-action": "mute", onclick: () => act(() => ops.mute(c.user, 0, false), loadMutes) }, t("mute")),
        h("button", { "data-action": "shadow", onclick: () => act(() => ops.mute(c.user, 0, true), loadMutes) }, t("shadow_mute")),
        h("button", { "data-action": "unmute", onclick: () => act(() => ops.unmute(c.user), loadMutes) }, t("unmute")))));
    };
    const banState = h("b", { id: "ban-state" });
    const off = socket.on(paint);
    paint(socket.view);
    const ban = h("div", {}, banState, " ",
      h("button", { id: "ban-on", onclick: () => act(() => ops.switchComments(false)) }, t("comments_off")),
      h("button", { id: "ban-off", onclick: () => act(() => ops.switchComments(true)) }, t("comments_on")));

    const slow = h("input", { id: "slow-mode", type: "number", min: 0, max: 3600, value: 0 });
    const slowForm = isAdmin()
      ? h("form", { onsubmit: (e) => { e.preventDefault(); act(() => session.api.call("PATCH", `/rooms/${enc(session.current)}`, { slow_mode_s: Number(slow.value) })); } }, field(t("slow_mode"), slow), h("button", { id: "slow-save" }, t("save")))
      : operatorOnly();

    const wordView = h("div", { id: "word-list" });
    const loadWords = async () => {
      if (!ops.wordList) return;
      const w = await ops.wordList().catch(() => null);
      if (w) wordView.replaceChildren(h("p", {}, `${t("words")}: ${w.words.map((x) => `${x.word}(${x.category})`).join(", ") || t("none")}`), h("p", {}, `${t("allow_words")}: ${w.allow.join(", ") || t("none")}`));
    };
    const ww = h("input", { id: "word" }), wc = h("input", { id: "word-category", value: "ads" }), aw = h("input", { id: "allow-word" });
    const words = h("div", {},
      h("form", { onsubmit: (e) => { e.preventDefault(); act(() => ops.words([{ word: ww.value, category: wc.value }], []), loadWords); } }, field(t("word"), ww), field(t("category"), wc), h("button", { id: "word-add" }, t("add")),
        h("button", { type: "button", id: "word-remove", onclick: () => act(() => ops.words([], [ww.value]), loadWords) }, t("remove"))),
      h("form", { onsubmit: (e) => { e.preventDefault(); act(() => ops.allowWords([aw.value], []), loadWords); } }, field(t("allow_words"), aw), h("button", { id: "allow-add" }, t("add")),
        h("button", { type: "button", id: "allow-remove", onclick: () => act(() => ops.allowWords([], [aw.value]), loadWords) }, t("remove"))),
      wordView);

    const audit = h("div", { id: "audit" });
    const loadAudit = async () => {
      if (!isAdmin()) return audit.replaceChildren(operatorOnly());
      const a = await session.api.call("GET", `/rooms/${enc(session.current)}/audit?limit=50`);
      audit.replaceChildren(h("table", {}, h("tr", {}, ["time", "actor", "role", "action", "target", "reason"].map((k) => h("th", {}, t(k)))),
        a.entries.map((e) => h("tr", {}, h("td", {}, fmtTime(e.ts)), h("td", {}, e.actor), h("td", {}, e.role), h("td", {}, e.action), h("td", {}, e.target), h("td", {}, e.reason ?? "")))));
    };
    await Promise.all([loadMutes(), loadWords(), loadAudit()]);
    return {
      el: h("div", {}, roomBar(),
        section("comment_stream", stream),
        section("mute_list", h("button", { onclick: loadMutes }, t("refresh")), mutes),
        section("room_ban", ban), section("slow_mode", slowForm), section("words", words),
        section("audit", h("button", { id: "audit-refresh", onclick: loadAudit }, t("refresh")), audit)),
      cleanup: off,
    };
  });
}

// ---------------------------------------------------------------- dashboard

const FIGURES = ["online", "peak_online", "viewers", "likes", "comments", "joins", "joins_per_minute", "lottery_participants"];

function curveSvg(points) {
  const W = 600, H = 160, P = 24;
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("id", "curve-svg");
  const max = Math.max(1, ...points.map((p) => p.online));
  const x = (i) => P + (points.length < 2 ? 0 : (i * (W - 2 * P)) / (points.length - 1));
  const y = (v) => H - P - (v * (H - 2 * P)) / max;
  const line = (x1, y1, x2, y2) => {
    const l = document.createElementNS(svg.namespaceURI, "line");
    Object.entries({ x1, y1, x2, y2, class: "axis" }).forEach(([k, v]) => l.setAttribute(k, v));
    svg.append(l);
  };
  line(P, H - P, W - P, H - P);
  line(P, P, P, H - P);
  const label = document.createElementNS(svg.namespaceURI, "text");
  label.setAttribute("x", 2);
  label.setAttribute("y", P - 6);
  label.textContent = `${t("online")} ≤ ${max}`;
  svg.append(label);
  if (points.length) {
    const pl = document.createElementNS(svg.namespaceURI, "polyline");
    pl.setAttribute("points", points.map((p, i) => `${x(i)},${y(p.online)}`).join(" "));
    pl.setAttribute("class", "curve");
    svg.append(pl);
  }
  return svg;
}

async function dashboard() {
  if (!isAdmin()) return { el: h("div", {}, operatorOnly()) };
  if (!session.current) return { el: h("div", {}, roomBar()) };
  const room = session.current;
  const grid = h("div", { class: "figures", id: "figures" });
  const paint = (f) => grid.replaceChildren(...FIGURES.map((k) => h("div", { class: "figure", "data-figure": k }, h("span", {}, t(k)), h("b", {}, f[k] ?? 0))),
    h("div", { class: "figure" }, h("span", {}, t("status")), h("b", {}, statusName(f.status))));
  const d = await session.api.call("GET", `/rooms/${enc(room)}/dashboard`);
  paint(d.figures);
  const curve = h("div", { id: "curve" });
  const paintCurve = (c) => curve.replaceChildren(curveSvg(c.curve), h("p", { class: "muted" }, `${c.curve.length} × ${c.curve_interval_ms / 1000}s`));
  paintCurve(d);
  // A new point comes once per interval: read the curve again then (at most every 5 s).
  const every = Math.max(5000, d.curve_interval_ms);
  const timer = setInterval(() => session.api.call("GET", `/rooms/${enc(room)}/dashboard`).then(paintCurve).catch(() => {}), every);
  const abort = new AbortController();
  session.api.stream(`/rooms/${enc(room)}/dashboard/stream`, (ev, data) => { if (ev === "figures") paint(data); }, abort.signal).catch(() => {});
  const csv = h("button", { id: "csv-export", onclick: () => act(() => session.api.download(`/rooms/${enc(room)}/dashboard.csv`, `${room}-dashboard.csv`)) }, t("export_csv"));
  return { el: h("div", {}, roomBar(), section("figures", grid), section("curve", curve, csv)), cleanup: () => { abort.abort(); clearInterval(timer); } };
}

// ---------------------------------------------------------------- cluster

async function cluster() {
  if (!isAdmin()) return { el: h("div", {}, operatorOnly()) };
  const [n, all, st, ready] = await Promise.all([
    session.api.call("GET", "/node"),
    session.api.call("GET", "/nodes").catch(() => ({ nodes: [] })),
    session.api.call("GET", "/stats"),
    fetch("/readyz").then(async (r) => `${r.status} ${await r.text()}`),
  ]);
  const row = (k, v) => h("tr", {}, h("th", {}, t(k)), h("td", { "data-field": k }, v));
  return { el: h("div", {},
    section("node", h("table", { id: "node-table" },
      row("node", n.node), row("readiness", `${n.readiness} (/readyz ${ready})`), row("connections", n.connections), row("rooms", n.rooms),
      row("backend", n.backend), row("store", n.store), row("latency", `${(n.store_latency_us / 1000).toFixed(2)} ms`), row("bus_disconnects", n.bus_disconnects))),
    section("cluster_nodes", h("table", { id: "nodes-table" },
      h("tr", {}, ["node", "readiness", "connections", "rooms", "reported"].map((k) => h("th", {}, t(k)))),
      all.nodes.map((x) => h("tr", { "data-node": x.node }, h("td", {}, x.node), h("td", {}, x.readiness), h("td", {}, x.connections),
        h("td", {}, x.rooms), h("td", {}, fmtTime(x.reported_at)))))),
    section("hubs", h("table", {}, h("tr", {}, h("th", {}, t("room")), h("th", {}, t("online")), h("th", {}, t("anchor"))),
      n.hubs.map((x) => h("tr", {}, h("td", {}, x.room), h("td", {}, x.online), h("td", {}, x.anchors))))),
    section("deployment", h("table", {}, row("live_rooms", `${st.live_rooms} / ${st.max_live_rooms || "∞"}`), row("lives_today", `${st.lives_today} / ${st.max_lives_per_day || "∞"}`))),
  ) };
}

export const PAGES = { rooms, control, moderation, dashboard, cluster };
