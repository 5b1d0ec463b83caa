/* A resident's page: points and hours, passbook lines in plain words, the passbook QR code,
   the next points to expire, and service requests to make and rate. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, lineWords, day, when } = Linli;
  const signedIn = Linli.requireRole("member", "staff");
  if (!signedIn) return;
  const memberId = signedIn.member_id || new URLSearchParams(location.search).get("member_id");
  if (!memberId) { notice(Linli.t("need_role"), "error"); return; }

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
