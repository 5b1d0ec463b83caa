/* 公益达人榜 on the community's screen: month, quarter or year; a points board (residents and
   households) and an hours board (residents and volunteer teams), rotated every ?rotate=
   seconds (20 in kiosk mode, else 0: off); names masked; as many rows as fit the display
   (?limit=, 10 by default); refreshed every ?refresh= seconds (30), periods cycled every
   ?cycle= (0: off). ?kiosk=1 hides the controls for a TV. ?building_id= shows one building's
   boards (一楼栋一账本). The third view (?board=voice) is the open wishes and the 民生清单
   (filled by voice.js). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, el, t, api, notice, problem, duration } = Linli;
  const signedIn = Linli.pageFor("member", "merchant", "staff", "auditor");
  if (!signedIn) return;
  const params = new URLSearchParams(location.search);
  const kiosk = params.get("kiosk") === "1";
  document.body.classList.toggle("kiosk", kiosk);
  const communityId = params.get("community_id") || signedIn.community_id;
  const buildingId = params.get("building_id");
  const refreshSeconds = Math.max(5, Number(params.get("refresh")) || 30);
  const cycleSeconds = Number(params.get("cycle")) || 0;
  const rotateSeconds = params.has("rotate") ? Number(params.get("rotate")) || 0 : (kiosk ? 20 : 0);
  const limit = Math.min(50, Math.max(1, Number(params.get("limit")) || 10));
  const ORDER = ["month", "quarter", "year"];
  const VIEWS = {
    points: { title: "board_points", boards: [["member", "POINTS", "members"],
                                               ["household", "POINTS", "households"]] },
    hours: { title: "board_hours", boards: [["member", "MINUTES", "members"],
                                             ["team", "MINUTES", "team_board"]] },
    voice: { title: "voice", boards: null },
  };
  const VIEW_ORDER = Object.keys(VIEWS);
  let period = ORDER.includes(params.get("period")) ? params.get("period") : "month";
  let view = VIEWS[params.get("board")] ? params.get("board") : "points";

  function periodKey(kind, now = new Date()) {
    const y = now.getFullYear();
    if (kind === "year") return String(y);
    if (kind === "quarter") return `${y}-Q${Math.floor(now.getMonth() / 3) + 1}`;
    return `${y}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  }

  async function board(side, [subject, asset, name]) {
    const query = new URLSearchParams({ period: periodKey(period), subject, asset, limit,
                                        public: "true" });
    if (communityId) query.set("community_id", communityId);
    if (buildingId) query.set("building_id", buildingId);
    const found = await api("GET", "/v1/leaderboards?" + query);
    $(`#${side}-name`).textContent = t(name);
    const list = $(`#board-${side}`);
    list.dataset.subject = subject;
    list.dataset.asset = asset;
    list.replaceChildren(...(found.items.length ? found.items.map((s) =>
      el("li", { class: s.rank <= 3 ? `podium podium${s.rank}` : "" },
        el("span", { class: "rank" }, s.rank),
        el("span", { class: "name" }, s.name),
        el("span", { class: "earned" }, asset === "MINUTES" ? duration(s.earned)
          : `${s.earned} ${t("points_unit")}`)))
      : [el("li", { class: "empty" }, t("board_empty"))]));
  }

  /** The rows' type sized so that `limit` rows and the update time fit the display. */
  function fit() {
    const boards = document.querySelector(".boards:not([hidden])");
    if (!boards) return;
    const below = document.querySelector(".updated").getBoundingClientRect().height + 16;
    const room = window.innerHeight - boards.getBoundingClientRect().top - below;
    const heading = document.querySelector(".boards h2").getBoundingClientRect().height + 8;
    const stacked = getComputedStyle(boards).gridTemplateColumns.split(" ").length < 2;
    const rows = stacked ? 2 * limit : limit;
    const perRow = (room - (stacked ? 2 : 1) * heading - (stacked ? 24 : 0)) / rows;
    // A row is its type's line (1.5) and padding (0.5 em) and its 1 px border.
    let size = Math.max(14, Math.min(48, Math.floor((perRow - 1) / 2.0)));
    const root = document.documentElement;
    root.style.setProperty("--row-font", `${size}px`);
    // What the estimate missed (headings that wrap, borders): smaller until it all fits.
    while (size > 14 && root.scrollHeight > window.innerHeight) {
      size -= 1;
      root.style.setProperty("--row-font", `${size}px`);
    }
  }

  async function refresh() {
    document.querySelectorAll("[data-period]").forEach((b) =>
      b.setAttribute("aria-pressed", String(b.dataset.period === period)));
    document.querySelectorAll("[data-view]").forEach((b) =>
      b.setAttribute("aria-pressed", String(b.dataset.view === view)));
    document.querySelectorAll(".period-name").forEach((s) => {
      s.textContent = `· ${t(period)} (${periodKey(period)})`;
    });
    $("#board-title").textContent = `${t("screen")} · ${t(VIEWS[view].title)}`;
    document.body.dataset.view = view;
    const voice = VIEWS[view].boards === null;
    $("#leaderboards").hidden = voice;
    $("#voice-boards").hidden = !voice;
    try {
      if (!voice) {
        const [left, right] = VIEWS[view].boards;
        await Promise.all([board("left", left), board("right", right)]);
      }
      $("#updated").textContent = new Date().toLocaleTimeString(Linli.lang);
      $("#notice").hidden = true;
      fit();
      document.body.dataset.ready = "true";
    } catch (error) {
      notice(problem(error), "error");
    }
  }

  document.querySelectorAll("[data-period]").forEach((button) =>
    button.addEventListener("click", () => { period = button.dataset.period; refresh(); }));
  document.querySelectorAll("[data-view]").forEach((button) =>
    button.addEventListener("click", () => { view = button.dataset.view; refresh(); }));
  $("#fullscreen").addEventListener("click", () => document.documentElement.requestFullscreen?.());
  window.addEventListener("resize", fit);
  if (communityId) {
    api("GET", `/v1/communities/${communityId}`).then((c) => { $("#community").textContent = c.name; },
      () => {});
  }
  if (communityId && buildingId) {
    api("GET", `/v1/communities/${communityId}/buildings`).then((found) => {
      const building = found.items.find((b) => b.id === buildingId);
      if (building) $("#building").textContent = `· ${building.name}`;
    }, () => {});
  }
  fit();
  refresh();
  setInterval(refresh, refreshSeconds * 1000);
  if (cycleSeconds > 0) {
    setInterval(() => { period = ORDER[(ORDER.indexOf(period) + 1) % ORDER.length]; refresh(); },
      cycleSeconds * 1000);
  }
  if (rotateSeconds > 0) {
    setInterval(() => { view = VIEW_ORDER[(VIEW_ORDER.indexOf(view) + 1) % VIEW_ORDER.length]; refresh(); },
      rotateSeconds * 1000);
  }
});
