/* Staff console: award in three clicks, approvals, the residents' list (a sign-in link, the
   member card, a PIN, a payment code at the counter), registering residents and households,
   dispatching and confirming service orders, and the dashboard's charts. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, when } = Linli;
  const signedIn = Linli.requireRole("staff", "auditor");
  if (!signedIn) return;
  const communityId = signedIn.community_id || new URLSearchParams(location.search).get("community_id");
  if (!communityId) { notice(t("need_role"), "error"); return; }
  const chosen = { member: null, rule: null };
  let members = [];

  /* --- 1, 2, 3: an award ------------------------------------------------------------ */
  function pick(container, button) {
    container.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", "false"));
    button.setAttribute("aria-pressed", "true");
  }

  function awardReady() {
    const { member, rule } = chosen;
    const button = $("#award-confirm");
    button.disabled = !(member && rule);
    if (member && rule) {
      const amount = Number($("#award-amount").value) || 0;
      const words = rule.unit === "hour" ? duration(amount) : `× ${amount}`;
      button.textContent = `${t("confirm")}：${member.name} · ${rule.name} ${words}`;
    }
  }

  async function findMembers(text) {
    const query = new URLSearchParams({ community_id: communityId, q: text, limit: 12 });
    members = (await api("GET", "/v1/members?" + query)).items;
    const box = $("#member-choices");
    box.replaceChildren(...members.map((m) => {
      const button = el("button", { type: "button", class: "choice", "aria-pressed": "false",
                                    "data-member": m.member_id },
        m.name, el("small", {}, m.passbook_no));
      button.addEventListener("click", () => { chosen.member = m; pick(box, button); awardReady(); });
      return button;
    }));
    return members;
  }

  async function showRules() {
    const rules = (await api("GET", `/v1/communities/${communityId}/rules`)).items;
    const box = $("#rule-choices");
    box.replaceChildren(...rules.map((rule) => {
      const unit = rule.unit === "hour" ? `/${t("hour_unit")}` : "";
      const button = el("button", { type: "button", class: "choice", "aria-pressed": "false",
                                    "data-rule": rule.code },
        rule.name, el("small", {}, `${rule.points}${t("points_unit")}${unit}`));
      button.addEventListener("click", () => {
        chosen.rule = rule;
        pick(box, button);
        const hourly = rule.unit === "hour";
        $("#award-amount-label").textContent = hourly ? t("minutes") : t("quantity");
        $("#award-amount").value = hourly ? 60 : 1;
        awardReady();
      });
      return button;
    }));
  }

  $("#award-amount").addEventListener("input", awardReady);
  let searchTimer = null;
  $("#member-search").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => findMembers(event.target.value.trim()).catch(
      (error) => notice(problem(error), "error")), 200);
  });
  $("#award-confirm").addEventListener("click", async () => {
    const { member, rule } = chosen;
    const amount = Number($("#award-amount").value);
    const body = { member_id: member.member_id, rule_code: rule.code };
    if (rule.unit === "hour") body.minutes = amount; else body.quantity = amount;
    try {
      const award = await api("POST", "/v1/awards", body);
      const state = award.status === "pending" ? ` (${t("approvals")})` : "";
      $("#award-result").textContent = `${member.name} · ${rule.name} +${award.points}${state}`;
      notice(t("saved"));
      if (award.status === "pending") await showPending();
    } catch (error) { notice(problem(error), "error"); }
  });

  /* --- approvals ------------------------------------------------------------------- */
  async function decide(id, verb, body) {
    try {
      await api("POST", `/v1/awards/${id}/${verb}`, body);
      notice(t("saved"));
      await showPending();
    } catch (error) { notice(problem(error), "error"); }
  }

  async function showPending() {
    const items = (await api("GET", `/v1/awards?status=pending&community_id=${communityId}`)).items;
    $("#pending").replaceChildren(...(items.length ? items.map((a) => {
      const reason = el("input", { id: `reason-${a.id}`, maxlength: 500 });
      const amount = a.minutes ? duration(a.minutes) : a.quantity ? `× ${a.quantity}` : "";
      return el("li", { "data-award": a.id },
        el("span", { class: "what" }, `${a.member_name} · ${a.rule_name} ${amount} +${a.points}`),
        el("span", { class: "when" }, when(a.occurred_at)),
        el("span", { class: "row" },
          el("button", { type: "button", onclick: () => decide(a.id, "approve") }, t("approve")),
          el("label", { for: `reason-${a.id}` }, t("reason")), reason,
          el("button", { type: "button", class: "secondary",
                         onclick: () => decide(a.id, "reject", { reason: reason.value || t("reject") }) },
            t("reject"))));
    }) : [el("li", { class: "empty" }, t("no_pending"))]));
  }

  /* --- registering ----------------------------------------------------------------- */
  function registered(...children) {
    $("#registered").replaceChildren(el("div", { class: "result" }, ...children));
  }

  $("#household-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { community_id: communityId, address: form.address.value.trim() };
    if (form.grid_id.value) body.grid_id = form.grid_id.value;
    try {
      const household = await api("POST", "/v1/households", body);
      $("#member-household").append(el("option", { value: household.id }, body.address));
      $("#member-household").value = household.id;
      registered(el("p", {}, `${t("household")} · ${body.address}`));
      notice(t("saved"));
      form.reset();
    } catch (error) { notice(problem(error), "error"); }
  });

  $("#member-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { community_id: communityId, name: form.name.value.trim() };
    if (form.household_id.value) body.household_id = form.household_id.value;
    if (form.grid_id.value) body.grid_id = form.grid_id.value;
    try {
      const member = await api("POST", "/v1/members", body);
      const row = { member_id: member.id, name: member.name, passbook_no: member.passbook_no };
      registered(el("p", {}, `${member.name} · ${t("passbook_no")} ${member.passbook_no}`),
        el("span", { class: "row" }, memberActions(row)));
      notice(t("saved"));
      form.reset();
      await Promise.all([findMembers(""), showRoster()]);
    } catch (error) { notice(problem(error), "error"); }
  });

  /* --- the residents' list: a sign-in link, the card, a PIN, a payment code -------------- */
  const mayAct = signedIn.role !== "auditor";
  const dialog = $("#member-dialog");
  let dialogTimer = null;
  let dialogImage = null;

  function openDialog(title, ...children) {
    clearInterval(dialogTimer);
    if (dialogImage) URL.revokeObjectURL(dialogImage);
    dialogImage = null;
    $("#dialog-title").textContent = title;
    $("#dialog-body").replaceChildren(...children);
    if (!dialog.open) dialog.showModal();
  }

  dialog.addEventListener("close", () => {
    clearInterval(dialogTimer);
    // A secret shown in the dialog (a link, a code) goes with it.
    $("#dialog-body").replaceChildren();
    if (dialogImage) URL.revokeObjectURL(dialogImage);
    dialogImage = null;
  });

  async function qrImage(text, alt) {
    dialogImage = await Linli.secretQr(text);
    return el("img", { class: "dialog-qr", alt, width: 232, height: 232, src: dialogImage });
  }

  const who = (m) => `${m.name} · ${t("passbook_no")} ${m.passbook_no}`;

  async function signInLink(m) {
    try {
      const link = await api("POST", `/v1/members/${m.member_id}/sign-in-links`, {});
      const text = el("code", { class: "token", id: "link-text" }, link.url);
      const copy = navigator.clipboard ? el("button", {
        type: "button", class: "secondary", onclick: async (event) => {
          await navigator.clipboard.writeText(link.url);
          event.target.textContent = t("copied");
        } }, t("copy")) : null;
      openDialog(`${t("signin_link")} · ${m.name}`,
        el("p", {}, who(m)),
        await qrImage(link.url, t("signin_link")),
        el("p", { class: "large" }, t("signin_link_help")),
        el("p", {}, `${t("signin_link_expires")} `,
          el("strong", { id: "link-expires" }, Linli.when(link.expires_at))),
        el("p", { class: "help" }, t("signin_link_replaces")),
        el("details", {}, el("summary", {}, t("show_link_text")), text, copy));
    } catch (error) { notice(problem(error), "error"); }
  }

  function setPin(m) {
    const result = el("p", { class: "result", id: "pin-result", "aria-live": "polite" });
    const pinInput = (id) => el("input", { id, type: "password", inputmode: "numeric",
                                           maxlength: 6, pattern: "[0-9]{6}", required: true,
                                           autocomplete: "off" });
    const first = pinInput("pin-new");
    const second = pinInput("pin-again");
    const form = el("form", { id: "pin-form", onsubmit: async (event) => {
      event.preventDefault();
      if (!/^\d{6}$/.test(first.value)) { result.textContent = t("pin_digits_wrong"); return; }
      if (first.value !== second.value) { result.textContent = t("pin_mismatch"); return; }
      try {
        await api("PUT", `/v1/members/${m.member_id}/pin`, { pin: first.value });
        form.reset();
        result.textContent = t("pin_saved");
        notice(t("saved"));
      } catch (error) { result.textContent = problem(error); }
    } },
    el("label", { for: "pin-new" }, t("pin_new")), first,
    el("label", { for: "pin-again" }, t("pin_again")), second,
    el("button", { type: "submit" }, t("save_pin")));
    openDialog(`${t("set_pin")} · ${m.name}`, el("p", {}, who(m)), form, result);
    first.focus();
  }

  async function paymentCode(m) {
    try {
      const { data: made, response } = await Linli.apiResponse(
        "POST", `/v1/members/${m.member_id}/payment-codes`, {}, { "Idempotency-Key": Linli.newKey() });
      const left = el("span", { id: "counter-left" });
      openDialog(`${t("pay_code")} · ${m.name}`,
        el("p", {}, who(m)),
        await qrImage(made.code, t("pay_code_qr")),
        el("p", { class: "code-digits", id: "counter-digits", "data-code": made.code,
                  "aria-label": t("pay_code_digits") }, Linli.digitGroups(made.code)),
        el("p", { class: "large" }, `${t("code_expires")} ${Linli.when(made.expires_at)} · `, left),
        el("p", { class: "help" }, t("counter_code_help")),
        el("button", { type: "button", onclick: () => paymentCode(m) }, t("counter_code_again")));
      const ends = Linli.localInstant(made.expires_at, response);
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((ends - Date.now()) / 1000));
        left.textContent = t("pay_code_left").replace("{n}", seconds);
      };
      tick();
      dialogTimer = setInterval(tick, 1000);
    } catch (error) { notice(problem(error), "error"); }
  }

  function memberActions(m) {
    if (!mayAct) return [];
    return [
      el("button", { type: "button", class: "secondary", "data-action": "signin-link",
                     onclick: () => signInLink(m) }, t("signin_link")),
      el("a", { class: "button secondary", "data-action": "card",
                href: `/web/card?member_id=${encodeURIComponent(m.member_id)}` }, t("member_card")),
      el("button", { type: "button", class: "secondary", "data-action": "set-pin",
                     onclick: () => setPin(m) }, t("set_pin")),
      el("button", { type: "button", class: "secondary", "data-action": "pay-code",
                     onclick: () => paymentCode(m) }, t("pay_code")),
    ];
  }

  async function showRoster(text = $("#roster-search").value.trim()) {
    const query = new URLSearchParams({ community_id: communityId, q: text, limit: 20 });
    const found = (await api("GET", "/v1/members?" + query)).items;
    $("#roster").replaceChildren(...(found.length ? found.map((m) => el("li",
      { "data-roster": m.member_id },
      el("span", { class: "what" }, m.name, " ", el("small", {}, m.passbook_no)),
      el("span", { class: "row actions" }, memberActions(m))))
      : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  let rosterTimer = null;
  $("#roster-search").addEventListener("input", () => {
    clearTimeout(rosterTimer);
    rosterTimer = setTimeout(() => showRoster().catch(
      (error) => notice(problem(error), "error")), 200);
  });

  /* --- service orders --------------------------------------------------------------- */
  async function step(id, verb, body) {
    try {
      await api("POST", `/v1/service-requests/${id}/${verb}`, body);
      notice(t("saved"));
      await showOrders();
    } catch (error) { notice(problem(error), "error"); }
  }

  async function showOrders() {
    const list = $("#orders");
    let items;
    try {
      items = (await api("GET", `/v1/service-requests?community_id=${communityId}`)).items;
    } catch (error) {
      if (error.status === 404 || error.status === 405) {
        list.replaceChildren(el("li", { class: "empty" }, t("service_unavailable")));
        return;
      }
      throw error;
    }
    list.replaceChildren(...(items.length ? items.map((order) => {
      const row = el("li", { "data-order": order.id },
        el("span", { class: "what" }, `${order.service_type} · ${t("status_" + order.status)}`),
        order.minutes ? el("span", { class: "when" }, duration(order.minutes)) : null);
      if (order.status === "requested") {
        const select = el("select", { id: `volunteer-${order.id}` },
          members.map((m) => el("option", { value: m.member_id }, `${m.name} ${m.passbook_no}`)));
        row.append(el("span", { class: "row" },
          el("label", { for: `volunteer-${order.id}` }, t("volunteer_id")), select,
          el("button", { type: "button",
                         onclick: () => step(order.id, "dispatch", { volunteer_id: select.value }) },
            t("dispatch"))));
      } else if (order.status === "completed") {
        row.append(el("button", { type: "button", onclick: () => step(order.id, "confirm", {}) },
          t("confirm_service")));
      }
      return row;
    }) : [el("li", { class: "empty" }, t("no_requests"))]));
  }

  /* --- dashboard --------------------------------------------------------------------- */
  async function chart(figure, box) {
    const year = $("#dashboard-year").value;
    const query = new URLSearchParams({ year, figure, community_id: communityId,
                                        lang: Linli.lang === "en" ? "en" : "zh" });
    const svg = await api("GET", "/web/charts/dashboard.svg?" + query, undefined,
                          { Accept: "image/svg+xml" });
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    box.replaceChildren(document.importNode(parsed, true));
  }

  async function showCharts() {
    await Promise.all([chart("points", $("#chart-points")), chart("hours", $("#chart-hours"))]);
  }

  $("#dashboard-year").value = new Date().getFullYear();
  $("#dashboard-year").addEventListener("change", () => showCharts().catch(
    (error) => notice(problem(error), "error")));

  try {
    const community = await api("GET", `/v1/communities/${communityId}`);
    $("#community").textContent = community.name;
    document.querySelectorAll("select.grids").forEach((select) => select.append(
      ...community.grids.map((g) => el("option", { value: g.id }, g.name))));
    await Promise.all([findMembers(""), showRoster(""), showRules(), showPending(), showCharts()]);
    await showOrders();
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
