// The console's shell: sign-in, navigation, the hash router, and the DOM
// helpers every page uses. Text from the server is always set as text
// (h() never parses HTML), so a comment cannot inject markup.
import { lang, setLang, t } from "./i18n.js";
import { AdminApi, RoomSocket, adminOps, tokenOps } from "./backend.js";
import { PAGES } from "./pages.js";

/** h("tag", {attr, onclick}, ...children): an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Shows the outcome of the last action; refusals keep the server's code. */
export function flash(ok, text, code) {
  const f = document.getElementById("flash");
  f.className = ok ? "flash ok" : "flash err";
  f.dataset.code = code ?? "";
  f.textContent = text;
}

/** Runs an action and reports it: "OK" or the server's refusal. */
export async function act(fn, after) {
  try {
    const r = await fn();
    flash(true, t("ok"), "ok");
    if (after) await after(r);
    return r;
  } catch (e) {
    flash(false, `${t("error")}: ${e.code ?? ""} ${e.message}`, e.code ?? "error");
    return undefined;
  }
}

export const session = {
  mode: null, // "admin" | "token"
  api: null,
  token: null,
  user: null,
  rooms: new Map(), // room id -> { socket, ops }
  current: localStorage.getItem("console.room") || "",
};

/** The room's socket and its actions, opened once per room. */
export async function roomOf(id) {
  if (session.rooms.has(id)) return session.rooms.get(id);
  let token = session.token;
  if (session.mode === "admin") {
    token = (await session.api.call("POST", "/tokens", { user: "console", name: "console" })).token;
  }
  const socket = await new RoomSocket(token, id).open();
  const ops = session.mode === "admin" ? adminOps(session.api, id, socket) : tokenOps(socket);
  const entry = { socket, ops };
  session.rooms.set(id, entry);
  return entry;
}

export function setCurrentRoom(id) {
  session.current = id;
  localStorage.setItem("console.room", id);
}

function tokenUser(tok) {
  try {
    const p = JSON.parse(atob(tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return p.sub;
  } catch {
    return null;
  }
}

async function signIn(kind, secret) {
  if (kind === "admin") {
    const api = new AdminApi(secret);
    await api.call("GET", "/stats");
    Object.assign(session, { mode: "admin", api, token: null, user: t("operator") });
  } else {
    const user = tokenUser(secret);
    if (!user) throw Object.assign(new Error("not a JWT"), { code: "token_invalid" });
    Object.assign(session, { mode: "token", api: null, token: secret, user });
  }
  location.hash = session.mode === "admin" ? "#/rooms" : "#/control";
  render();
}

function signOut() {
  for (const r of session.rooms.values()) r.socket.close();
  session.rooms.clear();
  Object.assign(session, { mode: null, api: null, token: null, user: null });
  location.hash = "";
  render();
}

function signInPage() {
  const key = h("input", { id: "admin-key", type: "password", autocomplete: "off" });
  const tok = h("textarea", { id: "token", rows: 3 });
  const go = (kind, el) => async (ev) => {
    ev.preventDefault();
    try {
      await signIn(kind, el.value.trim());
    } catch (e) {
      flash(false, `${t("error")}: ${e.code ?? ""} ${e.message}`, e.code ?? "error");
    }
  };
  return h("section", { class: "card signin" },
    h("h2", {}, t("signin")),
    h("form", { onsubmit: go("admin", key) }, h("label", {}, t("admin_key"), key), h("button", { id: "signin-admin" }, t("signin"))),
    h("p", {}, t("or")),
    h("form", { onsubmit: go("token", tok) }, h("label", {}, t("token"), tok), h("button", { id: "signin-token" }, t("signin"))),
  );
}

const NAV = [
  ["rooms", "nav_rooms"],
  ["control", "nav_control"],
  ["moderation", "nav_moderation"],
  ["dashboard", "nav_dashboard"],
  ["cluster", "nav_cluster"],
];

let cleanup = null;

export async function render() {
  document.title = t("title");
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const header = document.getElementById("header");
  const main = document.getElementById("main");
  const page = (location.hash.match(/^#\/(\w+)/) ?? [])[1] ?? "rooms";
  header.replaceChildren(
    h("h1", {}, t("title")),
    session.mode
      ? h("nav", {}, NAV.map(([p, k]) => h("a", { href: `#/${p}`, id: `nav-${p}`, class: p === page ? "active" : null }, t(k))))
      : null,
    h("span", { class: "who", id: "who" }, session.mode === "admin" ? t("operator") : session.mode ? `${t("user")}: ${session.user}` : ""),
    h("button", { id: "lang", onclick: () => { setLang(lang === "zh-CN" ? "en" : "zh-CN"); render(); } }, t("lang")),
    session.mode ? h("button", { id: "signout", onclick: signOut }, t("signout")) : null,
  );
  if (!session.mode) {
    main.replaceChildren(signInPage());
    return;
  }
  const fn = PAGES[page] ?? PAGES.rooms;
  main.replaceChildren(h("p", {}, "…"));
  try {
    const out = await fn();
    main.replaceChildren(out.el);
    cleanup = out.cleanup ?? null;
  } catch (e) {
    main.replaceChildren(h("p", { class: "flash err" }, `${e.code ?? ""} ${e.message}`));
  }
}

setLang(lang);
window.addEventListener("hashchange", render);
render();
