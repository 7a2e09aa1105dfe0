// The PK (battle) card of the room control page: the PK running on the
// room's anchor-to-anchor link with both scores, live from the room
// socket's `pk` events (socket.view.pk, .pkLast, .pkLink); start (with a
// duration) and end as `link` requests, shown to an anchor signed in
// with a token only (the server refuses anyone else), and for operators the add/set score form and the
// history over the admin HTTP API. Usage:
//   import { pkCard } from "./pk.js";
//   const { el, cleanup } = pkCard({ socket, api: isAdmin() ? session.api : null, room });
import { t } from "./i18n.js";
import { h, act, session } from "./app.js";

const fmtTime = (ms) => (ms ? new Date(ms).toLocaleString() : "–");

/** One PK as a line: rooms with scores, the end or the result. */
function pkLine(p) {
  const scores = p.rooms.map((r, i) => `${r} ${p.scores[i] ?? 0}`).join(" : ");
  let tail = `${t("pk_ends_at")} ${fmtTime(p.ends_at)}`;
  if (p.result) {
    const who = p.result.winner ? `${t("pk_winner")} ${p.result.winner}` : t("pk_draw");
    tail = `${who} (${t("pk_reason_" + p.result.reason)})`;
  }
  return h("span", { class: "pk-line", "data-pk": p.pk, "data-state": p.state }, `#${p.pk} ${scores} · ${tail}`);
}

/** The PK card for the room `room` on `socket`; `api` (an AdminApi) for operators, else null. */
export function pkCard({ socket, api, room }) {
  const now = h("div", { id: "pk-current" });
  const last = h("div", { id: "pk-last", class: "muted" });
  const duration = h("input", { id: "pk-duration", type: "number", min: 30, max: 3600, value: 300 });
  const linkOf = () => socket.view.pk?.link ?? socket.view.pkLink?.link ?? null;
  const send = (body) => socket.request({ type: "link", ...body });
  const start = h("form", { id: "pk-start", onsubmit: (e) => {
    e.preventDefault();
    act(() => send({ action: "pk_start", link: linkOf(), duration_s: Number(duration.value) }));
  } }, h("label", {}, h("span", {}, t("pk_duration")), duration), h("button", {}, t("pk_start")));
  const end = h("button", { id: "pk-end", onclick: () => act(() => send({ action: "pk_end", link: linkOf() })) }, t("pk_end"));

  const history = h("ul", { id: "pk-history" });
  const loadHistory = async () => {
    if (!api) return;
    const r = await api.call("GET", `/rooms/${encodeURIComponent(room)}/pk`).catch(() => null);
    history.replaceChildren(...(r?.history ?? []).map((p) => h("li", {}, pkLine(p))));
  };
  let admin = null;
  if (api) {
    const amount = h("input", { id: "pk-amount", type: "number", min: 0, value: 1 });
    const mode = h("select", { id: "pk-mode" }, h("option", { value: "add" }, t("pk_score_add")), h("option", { value: "set" }, t("pk_score_set")));
    admin = h("form", { id: "pk-score", onsubmit: (e) => {
      e.preventDefault();
      const body = { [mode.value]: Number(amount.value) };
      act(() => api.call("POST", `/rooms/${encodeURIComponent(room)}/pk/score`, body));
    } }, h("label", {}, h("span", {}, t("pk_admin_score")), mode, amount), h("button", {}, t("save")));
  }

  // Only an anchor of the link can start or end a PK (the server refuses anyone else).
  const hosts = session.mode === "token" && socket.view.role === "anchor";
  let shownLast = null;
  const draw = (v) => {
    now.replaceChildren(v.pk ? pkLine(v.pk) : h("span", { class: "muted" }, v.pkLink ? t("pk_none") : t("pk_no_link")));
    last.replaceChildren(v.pkLast ? pkLine(v.pkLast) : "");
    start.hidden = !hosts || !v.pkLink || !!v.pk;
    end.hidden = !hosts || !v.pk;
    if (v.pkLast && v.pkLast !== shownLast) {
      shownLast = v.pkLast;
      loadHistory();
    }
  };
  const off = socket.on(draw);
  draw(socket.view);
  loadHistory();
  const el = h("section", { class: "card", id: "sec-pk" }, h("h2", {}, t("pk")), now, last, start, end, admin,
    api ? h("h3", {}, t("pk_history")) : null, api ? history : null);
  return { el, cleanup: off };
}
