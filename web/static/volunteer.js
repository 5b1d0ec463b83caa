/* A resident's page: the payment code (付款码) for the till, points and hours, passbook lines
   in plain words, the passbook QR code, the next points to expire, and service requests to
   make and rate. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, lineWords, day, when } = Linli;
  const signedIn = Linli.requireRole("member", "staff");
  if (!signedIn) return;
  const memberId = signedIn.member_id || new URLSearchParams(location.search).get("member_id");
  if (!memberId) { notice(Linli.t("need_role"), "error"); return; }

  /* --- the payment code (付款码) ----------------------------------------------------------
     Shown on request; a fresh code (a new Idempotency-Key each) about 10 s before the current
     one expires, while the page is visible; none while it is hidden; a fresh one on return if
     the current one is about to go. It stops by itself after a while, so a phone left open
     does not make codes for ever. */
  const REFRESH_BEFORE_MS = 10_000;
  const RETRY_MS = 5_000;
  const SHOW_FOR_MS = 10 * 60_000;
  const code = { wanted: false, busy: false, expiresAt: 0, since: 0, image: null,
                 refresh: null, tick: null };

  function codeState(message) { $("#code-state").textContent = message || ""; }

  function pause() {
    clearTimeout(code.refresh);
    clearInterval(code.tick);
    code.refresh = code.tick = null;
  }

  function tick() {
    const left = Math.max(0, Math.ceil((code.expiresAt - Date.now()) / 1000));
    $("#code-countdown").textContent = t("pay_code_left").replace("{n}", left);
    $("#code-box").classList.toggle("expired", left === 0);
    if (left === 0) codeState(t("pay_code_expired"));
  }

  function schedule(delay) {
    pause();
    if (!code.wanted || document.visibilityState !== "visible") return;
    if (Date.now() - code.since > SHOW_FOR_MS) { hideCode(t("pay_code_stopped")); return; }
    const left = code.expiresAt - Date.now();
    // About 10 s before it expires; a code that lives less than 20 s at half its life.
    const wait = delay ?? Math.max(left - REFRESH_BEFORE_MS, left / 2, 1000);
    code.refresh = setTimeout(makeCode, wait);
    tick();
    code.tick = setInterval(tick, 1000);
  }

  async function makeCode() {
    if (code.busy || !code.wanted) return;
    code.busy = true;
    pause();
    try {
      const { data, response } = await Linli.apiResponse(
        "POST", `/v1/members/${memberId}/payment-codes`, {}, { "Idempotency-Key": Linli.newKey() });
      // When it expires on this phone's clock (which may be wrong).
      code.expiresAt = Linli.localInstant(data.expires_at, response);
      const image = await Linli.secretQr(data.code);
      if (!code.wanted) { URL.revokeObjectURL(image); return; }
      if (code.image) URL.revokeObjectURL(code.image);
      code.image = image;
      $("#code-qr").src = image;
      $("#code-qr").hidden = false;
      $("#code-digits").replaceChildren(...Linli.digitGroups(data.code));
      $("#code-digits").dataset.code = data.code;
      $("#code-box").hidden = false;
      codeState("");
      schedule();
    } catch (error) {
      codeState(problem(error));
      // A passing fault (the network, the server busy): try again; a refusal: stop.
      if (!(error instanceof Linli.ApiError) || error.status >= 500 || error.status === 429) {
        schedule(RETRY_MS);
      } else {
        hideCode(problem(error));
      }
    } finally {
      code.busy = false;
    }
  }

  function hideCode(message) {
    code.wanted = false;
    pause();
    $("#code-box").hidden = true;
    $("#code-qr").hidden = true;
    $("#code-qr").removeAttribute("src");
    if (code.image) URL.revokeObjectURL(code.image);
    code.image = null;
    $("#code-digits").textContent = "";
    delete $("#code-digits").dataset.code;
    $("#show-code").hidden = false;
    codeState(message);
  }

  $("#show-code").addEventListener("click", () => {
    code.wanted = true;
    code.since = Date.now();
    $("#show-code").hidden = true;
    makeCode();
  });
  $("#hide-code").addEventListener("click", () => { hideCode(""); $("#show-code").focus(); });
  document.addEventListener("visibilitychange", () => {
    if (!code.wanted) return;
    if (document.visibilityState !== "visible") {
      pause();
      codeState(t("pay_code_paused"));
      return;
    }
    codeState("");
    code.since = Date.now();
    if (code.expiresAt - Date.now() <= REFRESH_BEFORE_MS) makeCode(); else schedule();
  });

  // Points expire at an instant (local midnight): show the last day they can be spent.
  const lastDay = (iso) => day(new Date(new Date(iso).getTime() - 1).toISOString());

  async function showBalance() {
    const [member, balance] = await Promise.all([
      api("GET", `/v1/members/${memberId}`),
      api("GET", `/v1/members/${memberId}/balance`),
    ]);
    $("#who").textContent = member.name;
    $("#passbook-no").textContent = member.passbook_no;
    const qr = $("#qr");
    qr.src = "/web/qr.svg?text=" + encodeURIComponent(member.passbook_no);
    qr.hidden = false;
    $("#points").textContent = balance.points;
    $("#points-detail").textContent = balance.points_held
      ? `${t("available")} ${balance.points_available} · ${t("held")} ${balance.points_held}` : "";
    $("#hours").textContent = duration(balance.minutes);
    $("#expiring").textContent = balance.points_expiring_next && balance.points_expiring_at
      ? `${balance.points_expiring_next} ${t("points_unit")} · ${lastDay(balance.points_expiring_at)} ${t("expires_on")}`
      : t("expiring_none");
  }

  async function showLines(asset, list) {
    const page = await api("GET", `/v1/members/${memberId}/passbook?asset=${asset}&limit=30`);
    const awardIds = page.items.filter((line) => line.reference.startsWith("award:"))
      .map((line) => line.reference.slice("award:".length));
    const awards = {};
    if (awardIds.length) {
      const found = await api("GET", `/v1/members/${memberId}/awards?ids=${[...new Set(awardIds)]}`);
      found.items.forEach((award) => { awards[award.id] = award; });
    }
    list.replaceChildren(...(page.items.length ? page.items.map((line) => el("li", {},
      el("span", { class: "what" },
        lineWords(line, asset, awards[line.reference.slice("award:".length)])),
      el("span", { class: "when" }, when(line.at) + " · " + t("balance_after") + " " +
        (asset === "MINUTES" ? duration(line.balance_after) : line.balance_after)),
    )) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  async function rate(id, stars) {
    try {
      await api("POST", `/v1/service-requests/${id}/rate`, { stars });
      notice(t("saved"));
      await showRequests();
      await showBalance();
    } catch (error) { notice(problem(error), "error"); }
  }

  async function showRequests() {
    const list = $("#my-requests");
    let page;
    try {
      page = await api("GET", `/v1/service-requests?requester_id=${memberId}`);
    } catch (error) {
      if (error.status === 404 || error.status === 405) {
        list.replaceChildren(el("li", { class: "empty" }, t("service_unavailable")));
        return;
      }
      throw error;
    }
    const items = page.items || [];
    list.replaceChildren(...(items.length ? items.map((item) => {
      const row = el("li", { "data-id": item.id },
        el("span", { class: "what" }, `${item.service_type} · ${t("status_" + item.status)}`),
        item.minutes ? el("span", { class: "when" }, duration(item.minutes)) : null);
      if (item.status === "completed") {
        const stars = el("select", { id: `stars-${item.id}`, class: "stars" },
          [5, 4, 3, 2, 1].map((n) => el("option", { value: n }, "★".repeat(n))));
        row.append(el("span", { class: "row" },
          el("label", { for: `stars-${item.id}` }, t("stars")), stars,
          el("button", { type: "button", onclick: () => rate(item.id, Number(stars.value)) },
            t("rate"))));
      }
      return row;
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  async function step(id, verb, body) {
    try {
      await api("POST", `/v1/service-requests/${id}/${verb}`, body);
      notice(t("saved"));
      await showTasks();
    } catch (error) { notice(problem(error), "error"); }
  }

  async function showTasks() {
    const list = $("#my-tasks");
    let items;
    try {
      items = (await api("GET", `/v1/service-requests?volunteer_id=${memberId}`)).items || [];
    } catch (error) {
      if (error.status === 404 || error.status === 405) {
        list.replaceChildren(el("li", { class: "empty" }, t("service_unavailable")));
        return;
      }
      throw error;
    }
    list.replaceChildren(...(items.length ? items.map((task) => {
      const row = el("li", { "data-task": task.id },
        el("span", { class: "what" }, `${task.service_type} · ${t("status_" + task.status)}`));
      if (task.status === "dispatched") {
        row.append(el("button", { type: "button", onclick: () => step(task.id, "accept") },
          t("accept")));
      } else if (task.status === "accepted") {
        const minutes = el("input", { id: `served-${task.id}`, type: "number", min: 1,
                                      max: 1440, value: 60, inputmode: "numeric" });
        row.append(el("span", { class: "row" },
          el("label", { for: `served-${task.id}` }, t("minutes_served")), minutes,
          el("button", { type: "button",
                         onclick: () => step(task.id, "complete", { minutes: Number(minutes.value) }) },
            t("complete"))));
      }
      return row;
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  $("#request-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = {
      requester_id: memberId, service_type: form.service_type.value,
      description: form.description.value.trim(),
    };
    if (form.minutes_estimate.value) body.minutes_estimate = Number(form.minutes_estimate.value);
    try {
      await api("POST", "/v1/service-requests", body);
      form.reset();
      notice(t("saved"));
      await showRequests();
    } catch (error) {
      notice(error.status === 404 ? t("service_unavailable") : problem(error), "error");
    }
  });

  try {
    await showBalance();
    await Promise.all([showLines("POINTS", $("#lines")), showLines("MINUTES", $("#minute-lines")),
                       showRequests(), showTasks()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
