/* 公益达人榜 on the community's screen: month, quarter or year; residents and households;
   names masked; refreshed every ?refresh= seconds (30), periods cycled every ?cycle= (0: off). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, el, t, api, notice, problem } = Linli;
  const signedIn = Linli.requireRole("member", "merchant", "staff", "auditor");
  if (!signedIn) return;
  const params = new URLSearchParams(location.search);
  const communityId = params.get("community_id") || signedIn.community_id;
  const refreshSeconds = Math.max(5, Number(params.get("refresh")) || 30);
  const cycleSeconds = Number(params.get("cycle")) || 0;
  const limit = Math.min(50, Number(params.get("limit")) || 10);
  const ORDER = ["month", "quarter", "year"];
  let period = ORDER.includes(params.get("period")) ? params.get("period") : "month";

  function periodKey(kind, now = new Date()) {
    const y = now.getFullYear();
    if (kind === "year") return String(y);
    if (kind === "quarter") return `${y}-Q${Math.floor(now.getMonth() / 3) + 1}`;
    return `${y}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  }

  async function board(subject) {
    const query = new URLSearchParams({ period: periodKey(period), subject, limit, public: "true" });
    if (communityId) query.set("community_id", communityId);
    const found = await api("GET", "/v1/leaderboards?" + query);
    $(`#board-${subject}`).replaceChildren(...(found.items.length ? found.items.map((s) =>
      el("li", { class: s.rank <= 3 ? `top top${s.rank}` : "" },
        el("span", { class: "rank" }, s.rank),
        el("span", { class: "name" }, s.name),
        el("span", { class: "earned" }, `${s.earned} ${t("points_unit")}`)))
      : [el("li", { class: "empty" }, t("board_empty"))]));
  }

  async function refresh() {
    document.querySelectorAll("[data-period]").forEach((b) =>
      b.setAttribute("aria-pressed", String(b.dataset.period === period)));
    document.querySelectorAll(".period-name").forEach((s) => {
      s.textContent = `· ${t(period)} (${periodKey(period)})`;
    });
    try {
      await Promise.all([board("member"), board("household")]);
      $("#updated").textContent = new Date().toLocaleTimeString(Linli.lang);
      $("#notice").hidden = true;
      document.body.dataset.ready = "true";
    } catch (error) {
      notice(problem(error), "error");
    }
  }

  document.querySelectorAll("[data-period]").forEach((button) =>
    button.addEventListener("click", () => { period = button.dataset.period; refresh(); }));
  $("#fullscreen").addEventListener("click", () => document.documentElement.requestFullscreen?.());
  if (communityId) {
    api("GET", `/v1/communities/${communityId}`).then((c) => { $("#community").textContent = c.name; },
      () => {});
  }
  refresh();
  setInterval(refresh, refreshSeconds * 1000);
  if (cycleSeconds > 0) {
    setInterval(() => { period = ORDER[(ORDER.indexOf(period) + 1) % ORDER.length]; refresh(); },
      cycleSeconds * 1000);
  }
});
