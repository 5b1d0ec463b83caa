/* A resident's page: the payment code (付款码) for the till, points and hours, passbook lines
   in plain words, the passbook QR code, the next points to expire, and service requests to
   make and rate. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, lineWords, day, when } = Linli;
  const signedIn = Linli.pageFor("member", "staff");
  if (!signedIn) return;
  const memberId = signedIn.member_id || new URLSearchParams(location.search).get("member_id");
  if (!memberId) { notice(Linli.t("need_role"), "error"); return; }
  $("#personal-data").addEventListener("click", () => Linli.openPaper(
    `/v1/members/${memberId}/personal-data?format=html`).catch((error) => {
    $("#personal-data-result").textContent = Linli.problem(error);
  }));

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

  /* Passbook lines, newest first, a page at a time (「更多」 fetches the next by its cursor):
     dated by the deed (occurred_at), coloured by sign, naming the shop or the other member. */
  const PAGE = () => (Linli.elder() ? 5 : 20);
  const cursors = { POINTS: null, MINUTES: null };

  function otherSide(line) {
    const who = line.counterparty;
    if (!who || who === line.description) return "";
    if (line.kind === "redemption" || line.kind === "refund") return t("at_shop").replace("{name}", who);
    if (line.kind === "gift") {
      return (line.amount < 0 ? t("gift_to") : t("gift_from")).replace("{name}", who);
    }
    return who;
  }

  function lineItem(line, asset, award) {
    const sign = line.amount > 0 ? "plus" : line.amount < 0 ? "minus" : "";
    const booked = line.at && line.occurred_at && day(line.at) !== day(line.occurred_at)
      ? ` · ${t("booked_on")} ${day(line.at)}` : "";
    const after = asset === "MINUTES" ? duration(line.balance_after) : line.balance_after;
    return el("li", { class: `line ${sign}` },
      el("span", { class: "day" }, when(line.occurred_at || line.at)),
      el("span", { class: "what" }, lineWords(line, asset, award)),
      el("span", { class: "when" }, [otherSide(line), `${t("balance_after")} ${after}`]
        .filter(Boolean).join(" · ") + booked));
  }

  async function showLines(asset, list, more, again = false) {
    const cursor = again ? cursors[asset] : null;
    const query = new URLSearchParams({ asset, limit: PAGE() });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `/v1/members/${memberId}/passbook?${query}`);
    const awardIds = page.items.filter((line) => line.reference.startsWith("award:"))
      .map((line) => line.reference.slice("award:".length));
    const awards = {};
    if (awardIds.length) {
      const found = await api("GET", `/v1/members/${memberId}/awards?ids=${[...new Set(awardIds)]}`);
      found.items.forEach((award) => { awards[award.id] = award; });
    }
    const items = page.items.map((line) =>
      lineItem(line, asset, awards[line.reference.slice("award:".length)]));
    if (again) list.append(...items);
    else list.replaceChildren(...(items.length ? items : [el("li", { class: "empty" }, t("no_lines"))]));
    cursors[asset] = page.next_cursor;
    more.hidden = !page.next_cursor;
  }

  for (const [asset, list, more] of [["POINTS", "#lines", "#more-lines"],
                                     ["MINUTES", "#minute-lines", "#more-minute-lines"]]) {
    $(more).addEventListener("click", async () => {
      $(more).disabled = true;
      try {
        await showLines(asset, $(list), $(more), true);
        if (!$(more).hidden) $(more).focus();
      } catch (error) {
        Linli.sayBeside($(more), problem(error), "error");
      } finally {
        $(more).disabled = false;
      }
    });
  }

  async function rate(id, stars, button) {
    try {
      await api("POST", `/v1/service-requests/${id}/rate`, { stars });
      await showRequests();
      await showBalance();
      const row = $(`#my-requests [data-id="${id}"]`);
      Linli.sayBeside(row ? row.firstChild : $("#my-requests"), t("rated_thanks"));
    } catch (error) { Linli.sayBeside(button, problem(error), "error"); }
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
          el("button", { type: "button", onclick: (event) => rate(item.id, Number(stars.value), event.currentTarget) },
            t("rate"))));
      }
      return row;
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  async function step(id, verb, body, button) {
    try {
      await api("POST", `/v1/service-requests/${id}/${verb}`, body);
      await showTasks();
      const row = $(`#my-tasks [data-task="${id}"]`);
      Linli.sayBeside(row ? row.firstChild : $("#my-tasks"), t(verb === "accept" ? "accepted_ok" : "completed_ok"));
    } catch (error) { Linli.sayBeside(button, problem(error), "error"); }
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
      const mine = task.requester_id === memberId;
      const row = el("li", { "data-task": task.id, class: "task" },
        el("span", { class: "what" }, `${task.service_type} · ${t("status_" + task.status)}`),
        mine ? null : el("span", { class: "who" },
          `${t("task_for")} ${task.requester_name || "—"}` +
          (task.requester_address ? ` · ${t("task_where")} ${task.requester_address}` : "")),
        el("span", { class: "when" }, `${t("task_asked")} ${when(task.requested_at)}` +
          (task.minutes_estimate ? ` · ${t("task_about")} ${duration(task.minutes_estimate)}` : "")),
        task.description ? el("span", { class: "note" }, task.description) : null);
      if (task.status === "dispatched") {
        row.append(el("button", { type: "button",
                                  onclick: (event) => step(task.id, "accept", undefined, event.currentTarget) },
          t("accept")));
      } else if (task.status === "accepted") {
        const minutes = el("input", { id: `served-${task.id}`, type: "number", min: 1,
                                      max: 1440, value: 60, inputmode: "numeric" });
        row.append(el("span", { class: "row" },
          el("label", { for: `served-${task.id}` }, t("minutes_served")), minutes,
          el("button", { type: "button",
                         onclick: (event) => step(task.id, "complete", { minutes: Number(minutes.value) },
                                                   event.currentTarget) },
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
      await showRequests();
      Linli.sayBeside(form.querySelector("button[type=submit]"), t("request_sent"));
    } catch (error) {
      Linli.sayBeside(form.querySelector("button[type=submit]"),
        error.status === 404 ? t("service_unavailable") : problem(error), "error");
    }
  });

  const elderButton = $("#elder-mode");
  elderButton.setAttribute("aria-pressed", String(Linli.elder()));
  elderButton.addEventListener("click", async () => {
    Linli.setElder(!Linli.elder());
    elderButton.setAttribute("aria-pressed", String(Linli.elder()));
    await Promise.all([showLines("POINTS", $("#lines"), $("#more-lines")),
                       showLines("MINUTES", $("#minute-lines"), $("#more-minute-lines"))]);
  });

  try {
    await showBalance();
    await Promise.all([showLines("POINTS", $("#lines"), $("#more-lines")),
                       showLines("MINUTES", $("#minute-lines"), $("#more-minute-lines")),
                       showRequests(), showTasks()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
