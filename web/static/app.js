/* Linli pages: the signed-in token, calls to the /v1 API, words, small DOM helpers. */
"use strict";

const Linli = (() => {
  const words = JSON.parse(document.getElementById("words").textContent);
  const lang = document.documentElement.lang === "en" ? "en" : "zh-CN";
  const SESSION = "linli.session";

  const t = (key) => words[key] ?? key;

  function session() {
    const raw = sessionStorage.getItem(SESSION) || localStorage.getItem(SESSION);
    try { return raw ? JSON.parse(raw) : null; } catch { return null; }
  }

  function saveSession(value, remember) {
    forget();
    (remember ? localStorage : sessionStorage).setItem(SESSION, JSON.stringify(value));
  }

  function forget() {
    sessionStorage.removeItem(SESSION);
    localStorage.removeItem(SESSION);
  }

  function toSignIn() {
    location.href = "/web/signin?next=" + encodeURIComponent(location.pathname + location.search);
  }

  /** The session if its role may use this page; otherwise off to the sign-in page. */
  function requireRole(...roles) {
    const found = session();
    if (!found || !(roles.includes(found.role) || found.role === "admin")) {
      toSignIn();
      return null;
    }
    return found;
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || String(status));
      this.status = status;
      this.problem = problem || {};
      this.slug = String(this.problem.type || "").split("/").pop();
    }
  }

  /* One Idempotency-Key per user action. The same write (method, path and body) sent again
     while it is unanswered, after it failed on the way (no answer, 5xx), or within
     ACTION_MS of its answer is the same action and reuses its key: a double click, or a retry
     after a lost connection, posts once. Sent later, or with another body, it is a new one. */
  const ACTION_MS = 5000;
  const IN_FLIGHT_TRIES = 20;
  const actions = new Map(); // "METHOD path body" -> { key, answeredAt }

  const actionId = (method, path, body) => `${method} ${path} ${JSON.stringify(body ?? null)}`;

  /** The next such write is a new action (a fresh key), however soon it is sent. */
  function newAction(method, path, body) {
    actions.delete(actionId(method, path, body));
  }

  function actionKey(method, path, body) {
    const now = Date.now();
    for (const [id, action] of actions) {
      if (action.answeredAt && now - action.answeredAt > ACTION_MS) actions.delete(id);
    }
    const id = actionId(method, path, body);
    if (!actions.has(id)) actions.set(id, { key: newKey(), answeredAt: 0 });
    return actions.get(id);
  }

  /** A /v1 call with the session's bearer token (or `token`); JSON in and out; problems
      thrown. Gives the answer's data and the response (for its headers). A write carries its
      action's Idempotency-Key (unless `headers` name one); while the same action is still
      running on the server (409 idempotency-key-in-flight) it waits and asks again. */
  async function apiResponse(method, path, body, headers = {}, token = null) {
    const bearer = token || (session() || {}).token;
    const sent = { Accept: "application/json", "Accept-Language": lang, ...headers };
    if (bearer) sent.Authorization = "Bearer " + bearer;
    if (body !== undefined) sent["Content-Type"] = "application/json";
    const action = method === "GET" || sent["Idempotency-Key"] ? null
      : actionKey(method, path, body);
    if (action) sent["Idempotency-Key"] = action.key;
    let response;
    for (let tries = 1; ; tries++) {
      response = await fetch(path, {
        method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body),
      });
      const inFlight = response.status === 409 &&
        (response.headers.get("content-type") || "").includes("problem") &&
        String((await response.clone().json()).type || "").endsWith("/idempotency-key-in-flight");
      if (!inFlight || tries >= IN_FLIGHT_TRIES) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    if (action && response.status < 500) action.answeredAt = Date.now();
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (response.status === 401 && !token) { forget(); toSignIn(); }
    if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : null);
    return { data, response };
  }

  /** A /v1 call; its answer's data. */
  async function api(method, path, body, headers = {}, token = null) {
    return (await apiResponse(method, path, body, headers, token)).data;
  }

  /** A paper to print (print-ready HTML the API gives with the session's token), opened in
      a new window, in the page's language. */
  async function openPaper(path) {
    const html = await api("GET", path, undefined, { Accept: "text/html" });
    const url = URL.createObjectURL(new Blob([html], { type: "text/html" }));
    window.open(url, "_blank");
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  /** A QR code of a secret (a payment code, a sign-in link) as an object URL: the text goes
      in a POST body, never in a URL. Revoke the URL once the image is replaced. */
  async function secretQr(text) {
    const response = await fetch("/web/qr.svg", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ text }),
    });
    if (!response.ok) throw new ApiError(response.status, null);
    return URL.createObjectURL(await response.blob());
  }

  /** Digits grouped by four for reading aloud: 1234 5678 9012 3456 78. */
  const grouped = (digits) => String(digits).replace(/(\d{4})(?=\d)/g, "$1 ");

  /** The same groups as nodes, so a narrow screen breaks the line between groups only. */
  const digitGroups = (digits) => grouped(digits).split(" ").flatMap((group, i) => [
    ...(i ? [" "] : []), el("span", { class: "group" }, group)]);

  /** An instant the server named (`iso`, in `response`), on this device's clock: corrected by
      the answer's `Date` where the device's clock is off by more than the header's 1 s grain. */
  function localInstant(iso, response) {
    const served = Date.parse(response.headers.get("date") || "");
    const skew = Number.isNaN(served) ? 0 : served - Date.now();
    return Date.parse(iso) - (Math.abs(skew) < 2000 ? 0 : skew);
  }

  /** Where the browser can read a QR code from a camera. */
  const canScan = () => "BarcodeDetector" in window && !!navigator.mediaDevices &&
    typeof navigator.mediaDevices.getUserMedia === "function";

  /** Build an element; text children are text nodes, never HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (name === "text") node.textContent = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function $(selector) { return document.querySelector(selector); }

  function notice(message, kind = "ok") {
    const box = $("#notice");
    box.textContent = message;
    box.className = "notice " + kind;
    box.hidden = false;
  }

  /** What went wrong: the server's own words (its problem's detail, in the page's language,
      asked for by Accept-Language), as they are; a failure with no answer in the page's. */
  function problem(error) {
    if (error instanceof ApiError) return error.message;
    return t("error") + ": " + error;
  }

  /** A fresh Idempotency-Key (works on plain http, where crypto.randomUUID is missing). */
  function newKey() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  const dateFormat = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "long", day: "numeric",
  });
  const timeFormat = new Intl.DateTimeFormat(lang, {
    month: "long", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const day = (iso) => dateFormat.format(new Date(iso));
  const when = (iso) => timeFormat.format(new Date(iso));

  /** Whole minutes in plain words: 2小时, 1小时30分钟, 45分钟. */
  function duration(minutes) {
    const sign = minutes < 0 ? "-" : "";
    const m = Math.abs(minutes);
    const h = Math.floor(m / 60);
    const rest = m % 60;
    const sep = lang === "en" ? " " : "";
    const parts = [];
    if (h) parts.push(h + sep + t("hour_unit"));
    if (rest || !h) parts.push(rest + sep + t("minute_unit"));
    return sign + parts.join(sep);
  }

  const signed = (n) => (n > 0 ? "+" : "") + n;

  /** A passbook line in plain words: "志愿服务 2小时 +20" for an award (with `award`, what
      lies behind it), "兑换 大米5斤 -15" for the rest; minutes read as hours. */
  function lineWords(line, asset, award = null) {
    const kind = words["kind_" + line.kind] ? t("kind_" + line.kind) : line.kind;
    const amount = asset === "MINUTES"
      ? (line.amount > 0 ? "+" : "") + duration(line.amount) : signed(line.amount);
    if (line.kind === "award") {
      const detail = !award ? "" : award.minutes ? duration(award.minutes)
        : award.quantity > 1 ? `× ${award.quantity}` : "";
      return [line.description, detail, amount].filter(Boolean).join(" ");
    }
    return [kind, line.description, amount].filter(Boolean).join(" ");
  }

  /** Ask a camera for a QR code (where the browser can read one). */
  async function scanInto(input, video) {
    if (!canScan()) {
      notice(t("scan_unsupported"), "warn");
      input.focus();
      return;
    }
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    try {
      for (let tries = 0; tries < 300; tries++) {
        const codes = await detector.detect(video);
        if (codes.length) {
          input.value = codes[0].rawValue;
          input.dispatchEvent(new Event("change"));
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      stream.getTracks().forEach((track) => track.stop());
      video.hidden = true;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const signedIn = session();
    const out = $("#signout");
    if (signedIn && out) {
      out.hidden = false;
      $("#signin-link").hidden = true;
      out.addEventListener("click", () => { forget(); location.href = "/web/signin"; });
    }
  });

  return {
    t, lang, session, saveSession, forget, requireRole, api, apiResponse, ApiError, el, $,
    notice, problem, newKey, newAction, day, when, duration, signed, lineWords, scanInto, secretQr, grouped,
    digitGroups, canScan, localInstant, openPaper,
  };
})();

/* The header's links for the signed-in role only; a page a role may not use says so; feedback
   beside the control the user touched; 长辈模式 (elder mode), remembered on the device. */
(() => {
  const ELDER = "linli.elder";
  const HOME = { member: "/web/volunteer", merchant: "/web/till", staff: "/web/staff",
                 admin: "/web/staff", auditor: "/web/staff" };

  /** Whether elder mode (larger type, fewer items, high contrast) is on for this device. */
  Linli.elder = () => localStorage.getItem(ELDER) === "1";

  /** Turn elder mode on or off on this device. */
  Linli.setElder = (on) => {
    if (on) localStorage.setItem(ELDER, "1"); else localStorage.removeItem(ELDER);
    document.documentElement.classList.toggle("elder", on);
  };
  document.documentElement.classList.toggle("elder", Linli.elder());

  /** The session if its role may use this page (`roles`; an admin may use every page); to
      the sign-in page without one; a page that says whose page it is, with a link to the
      user's own, for another role. */
  Linli.pageFor = (...roles) => {
    const found = Linli.session();
    if (!found) return Linli.requireRole(...roles);
    if (roles.includes(found.role) || found.role === "admin") return found;
    const { el, t } = Linli;
    const main = document.getElementById("main");
    main.replaceChildren(el("section", { class: "card denied", id: "denied" },
      el("h1", {}, t("denied_title")),
      el("p", { class: "large" }, t("denied_" + roles[0]) || t("need_role")),
      el("p", {}, el("a", { class: "button", href: HOME[found.role] || "/web/" }, t("go_home"))),
      el("p", {}, el("a", { href: "/web/signin" }, t("signin_other")))));
    document.body.dataset.ready = "true";
    return null;
  };

  /** Say `message` beside `target` (the control the user touched): in a status line after
      the target's row, list item or form, which is scrolled into view. */
  Linli.sayBeside = (target, message, kind = "ok") => {
    const holder = target.closest("li, form, .row, section") || target.parentElement;
    let box = holder.querySelector(":scope > .feedback");
    if (!box) {
      box = Linli.el("p", { class: "feedback", role: "status", "aria-live": "polite" });
      holder.append(box);
    }
    box.textContent = message;
    box.className = "feedback " + kind;
    box.scrollIntoView({ block: "nearest" });
    return box;
  };

  document.addEventListener("DOMContentLoaded", () => {
    const role = (Linli.session() || {}).role;
    document.querySelectorAll("[data-roles]").forEach((link) => {
      const roles = link.dataset.roles.split(" ");
      link.hidden = !role || !(roles.includes(role) || role === "admin");
    });
  });
})();
