// Co-stream (连麦) and anchor-to-anchor links on the room control page.
// Both are WebSocket-only (docs/protocol.md "Co-stream"): the anchor's
// console sends every step as a `costream` or `link` request of the room's
// socket; the sub-anchor only switches co-stream on and off; everyone else,
// an operator included (there is no admin HTTP route), sees the room's
// public state read-only. The server decides every step: a refusal shows
// its code through act(). The PK card (pk.js) closes the section.
import { t } from "./i18n.js";
import { h, act, flash, session } from "./app.js";
import { viewParts } from "./backend.js";

/** How far a step is along (ack and targeted copies of a step may cross). */
const RANK = { accepted: 0, invited: 0, anchor_confirmed: 1, live: 2, ended: 3 };
const PENDING = ["accepted", "anchor_confirmed", "invited"];
/** Link steps kept per socket (invitations, live, the last ended ones). */
const MAX_LINK_STEPS = 20;
const fmtTime = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "–");
const later = (a, b) => !b || RANK[a.phase] >= RANK[b.phase];

/** The co-stream part of a room's view: public state, own session, applicants, link steps. */
const part = {
  joined(v, j) {
    const c = j.costream ?? {};
    v.costream = {
      enabled: !!c.enabled, live: c.live ?? null, link: c.link ?? null, mine: c.mine ?? null,
      applicants: v.costream?.applicants ?? [], links: v.costream?.links ?? new Map(),
    };
  },
  event(v, e) {
    const c = v.costream;
    if (!c) return;
    switch (e.type) {
      case "costream":
        c.enabled = e.enabled;
        c.live = e.live;
        if (!e.enabled) c.applicants = [];
        break;
      case "costream_step":
        if (!c.mine || e.session > c.mine.session || (e.session === c.mine.session && later(e, c.mine))) c.mine = e;
        break;
      case "costream_applicants":
        c.applicants = e.applicants;
        break;
      case "link":
        c.link = e.link;
        break;
      case "link_step": {
        const key = `${e.link.from_room}/${e.link.link}`;
        if (!later(e, c.links.get(key))) break;
        c.links.delete(key);
        c.links.set(key, e);
        if (c.links.size > MAX_LINK_STEPS) c.links.delete(c.links.keys().next().value);
        break;
      }
    }
  },
};
viewParts.push(part);

const mediaName = (m) => t(`media_${m}`);
const phaseName = (p) => t(`phase_${p}`);

/** The `#sec-costream` section for the room's socket, ending with `pk` (the PK card). It drops its listener once it is off the page. */
export function costreamSection(socket, pk) {
  const role = socket.view.role;
  const token = session.mode === "token";
  const hosts = token && role === "anchor";
  const switches = token && (role === "anchor" || role === "sub_anchor");
  const view = () => socket.view.costream;

  // The ack's step is applied at once; the targeted copy that follows is the same step.
  const took = (r) => {
    if (r?.event) {
      part.event(socket.view, r.event);
      socket.emit();
    }
  };
  const costream = (body) => act(() => socket.request({ type: "costream", ...body }), took);
  const link = (body) => act(() => socket.request({ type: "link", ...body }), took);
  const loadApplicants = () => socket.request({ type: "costream", action: "applicants" }).then(took)
    .catch((e) => flash(false, `${t("error")}: ${e.code ?? ""} ${e.message}`, e.code ?? "error"));

  // The room's public state: what every viewer sees.
  const pub = h("div", { id: "costream-public" });
  const paintPublic = (c) => pub.replaceChildren(
    h("p", {}, `${t("cs_switch")}: `, h("b", { id: "costream-enabled", "data-enabled": String(c.enabled) }, c.enabled ? t("cs_on") : t("cs_off"))),
    h("p", { id: "costream-live", "data-guest": c.live?.guest ?? "" }, `${t("cs_live")}: `, c.live
      ? h("b", {}, `${c.live.nick} (${c.live.guest}) · ${mediaName(c.live.media)}${c.live.muted ? ` · ${t("cs_muted")}` : ""}`)
      : t("none")),
    h("p", { id: "link-live", "data-link": c.link ? String(c.link.link) : "" }, `${t("link_live")}: `, c.link
      ? [h("b", {}, `${c.link.from_room} (${c.link.from_anchor}) ⇄ ${c.link.to_room} (${c.link.to_anchor})`), " ",
        hosts ? h("button", { id: "link-end", class: "danger", onclick: () => link({ action: "end", link: c.link.link }) }, t("link_end")) : null]
      : t("none")),
  );

  const applicants = h("div", { id: "costream-applicants" });
  const paintApplicants = (c) => applicants.replaceChildren(c.applicants.length
    ? h("table", {},
      h("tr", {}, ["user", "nick", "cs_media", "cs_applied_at", "actions"].map((k) => h("th", {}, t(k)))),
      c.applicants.map((a) => h("tr", { "data-user": a.user, "data-media": a.media },
        h("td", {}, a.user), h("td", {}, a.nick), h("td", { class: "media" }, mediaName(a.media)), h("td", {}, fmtTime(a.at)),
        h("td", {}, h("button", { "data-action": "accept", onclick: () => costream({ action: "accept", user: a.user }) }, t("cs_accept"))))))
    : h("p", { class: "muted" }, t("none")));

  // The anchor's own session, from `joined.costream.mine` and `costream_step`.
  const mine = h("div", { id: "costream-session" });
  const paintMine = (c) => {
    const s = c.mine;
    mine.dataset.phase = s?.phase ?? "";
    mine.dataset.session = s ? String(s.session) : "";
    mine.dataset.muted = String(!!s?.muted);
    if (!s) return mine.replaceChildren(h("p", { class: "muted" }, t("none")));
    const at = PENDING.includes(s.phase) ? ` · ${t("cs_expires")} ${fmtTime(s.expires_at)}` : "";
    const why = s.reason ? ` · ${t("reason")}: ${s.reason}` : "";
    mine.replaceChildren(
      h("p", {}, `#${s.session} · ${t("cs_guest")}: `, h("b", { class: "guest" }, `${s.nick} (${s.guest})`),
        ` · ${mediaName(s.media)} · `, h("b", { class: "phase" }, phaseName(s.phase)), s.muted && s.phase === "live" ? ` · ${t("cs_muted")}` : "", at, why),
      h("div", { class: "buttons" },
        s.phase === "accepted" ? h("button", { id: "costream-confirm", onclick: () => costream({ action: "confirm", session: s.session }) }, t("cs_confirm")) : null,
        s.phase === "anchor_confirmed" || s.phase === "invited" ? h("span", { class: "muted" }, t("cs_waiting_guest")) : null,
        s.phase === "live" ? h("button", { id: s.muted ? "costream-unmute" : "costream-mute", onclick: () => costream({ action: "mute", session: s.session, muted: !s.muted }) }, s.muted ? t("cs_unmute") : t("cs_mute")) : null,
        s.phase !== "ended" ? h("button", { id: "costream-end", class: "danger", onclick: () => costream({ action: "end", session: s.session }) }, t("cs_end")) : null),
    );
  };

  // Link invitations and their outcome, from `link_step`.
  const links = h("div", { id: "link-steps" });
  const paintLinks = (c) => {
    const rows = [...c.links.entries()].reverse();
    links.replaceChildren(rows.length
      ? h("table", {},
        h("tr", {}, ["id", "link_direction", "link_other", "state", "reason", "actions"].map((k) => h("th", {}, t(k)))),
        rows.map(([key, s]) => {
          const out = s.link.from_room === socket.room;
          const other = out ? `${s.link.to_room} (${s.link.to_anchor})` : `${s.link.from_room} (${s.link.from_anchor})`;
          const invited = s.phase === "invited";
          return h("tr", { "data-link": key, "data-phase": s.phase, "data-direction": out ? "outgoing" : "incoming" },
            h("td", {}, s.link.link), h("td", {}, out ? t("link_outgoing") : t("link_incoming")), h("td", {}, other),
            h("td", { class: "phase" }, phaseName(s.phase)),
            h("td", {}, invited ? `${t("cs_expires")} ${fmtTime(s.expires_at)}` : (s.reason ?? "")),
            h("td", {},
              invited && !out ? [
                h("button", { "data-action": "accept", onclick: () => link({ action: "accept", room: s.link.from_room, link: s.link.link }) }, t("cs_accept")),
                h("button", { "data-action": "decline", onclick: () => link({ action: "decline", room: s.link.from_room, link: s.link.link }) }, t("cs_decline"))] : null,
              invited && out ? h("button", { "data-action": "withdraw", onclick: () => link({ action: "end", link: s.link.link }) }, t("withdraw")) : null));
        }))
      : h("p", { class: "muted" }, t("none")));
  };

  let shown = null;
  const paint = () => {
    const c = view();
    if (!c) return;
    // Repaint only on a change, not on every totals frame (a button under the pointer stays put).
    const key = JSON.stringify([c.enabled, c.live, c.link, c.mine, c.applicants, [...c.links.values()]]);
    if (key === shown) return;
    shown = key;
    paintPublic(c);
    if (hosts) {
      paintApplicants(c);
      paintMine(c);
      paintLinks(c);
    }
  };
  paint();

  const switchButtons = h("div", { class: "buttons" },
    h("button", { id: "costream-enable", onclick: () => costream({ action: "enable" }) }, t("cs_enable")),
    h("button", { id: "costream-disable", onclick: () => costream({ action: "disable" }) }, t("cs_disable")));
  const who = h("input", { id: "costream-invite-user", maxlength: 64, placeholder: t("user") });
  const media = h("select", { id: "costream-invite-media" }, ["voice", "video"].map((m) => h("option", { value: m }, mediaName(m))));
  const invite = h("form", { onsubmit: (e) => { e.preventDefault(); costream({ action: "invite", user: who.value.trim(), media: media.value }); } },
    h("label", {}, h("span", {}, t("user")), who), h("label", {}, h("span", {}, t("cs_media")), media), h("button", { id: "costream-invite" }, t("cs_invite")));
  const other = h("input", { id: "link-room", maxlength: 64, placeholder: t("room_id_hint") });
  const linkForm = h("form", { onsubmit: (e) => { e.preventDefault(); link({ action: "invite", room: other.value.trim() }); } },
    h("label", {}, h("span", {}, t("link_room")), other), h("button", { id: "link-invite" }, t("link_invite")));

  const el = h("section", { class: "card costream", id: "sec-costream" },
    h("h2", {}, t("costream")),
    pub,
    switches ? switchButtons : h("p", { class: "muted", id: "costream-read-only" }, t("cs_read_only")),
    switches && !hosts ? h("p", { class: "muted" }, t("cs_sub_anchor")) : null,
    hosts ? [
      h("h3", {}, t("cs_applicants"), " ", h("button", { id: "costream-applicants-refresh", onclick: loadApplicants }, t("refresh"))), applicants,
      h("h3", {}, t("cs_invite")), invite,
      h("h3", {}, t("cs_session")), mine,
      h("h3", {}, t("link")), linkForm, links,
    ] : null,
    pk);
  if (hosts) loadApplicants();
  // The page attaches the section right after building it, before any frame: a frame that
  // finds it detached means the page went away.
  const off = socket.on(() => (el.isConnected ? paint() : off()));
  return el;
}
