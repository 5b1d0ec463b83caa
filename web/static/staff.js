/* Staff console: award in three clicks, approvals (filtered by rule, several at once), the
   rulebook (retire and restore a rule), the residents' list (a sign-in link, the member card,
   a PIN, a payment code at the counter, editing a resident, the passbook with its awards to
   reverse), registering residents and households, dispatching and confirming service orders,
   the dashboard's charts, and the community's sign-in keys (revoking a resident's or
   merchant's). Every action posts with its own Idempotency-Key (see `Linli.apiResponse`): a
   double click posts once. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, when } = Linli;
  const signedIn = Linli.requireRole("staff", "auditor");
  if (!signedIn) return;
  const scope = signedIn.communities || [];  // a district's staff: its communities
  const asked = new URLSearchParams(location.search).get("community_id");
  const communityId = signedIn.community_id || (scope.length && !scope.includes(asked)
    ? scope[0] : asked);
  if (!communityId) { notice(t("need_role"), "error"); return; }
  if (scope.length > 1) {  // the community switcher: the district's communities only
    const switcher = el("select", { id: "community-switcher", "aria-label": t("switch_community") });
    const named = (await api("GET", "/v1/communities?limit=500")).items;
    switcher.append(...named.map((c) => el("option", { value: c.id }, c.name)));
    switcher.value = communityId;
    switcher.addEventListener("change", () => {
      location.search = "?" + new URLSearchParams({ community_id: switcher.value });
    });
    $("#community").after(switcher);
  }
  const chosen = { member: null, rule: null };
  let members = [];
  let grids = [];  // the community's, in their order
  let households = [];  // the community's, as the list gives them

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
    const all = (await api("GET", `/v1/communities/${communityId}/rules`)).items;
    showRulebook(all);
    const rules = all.filter((rule) => !rule.retired);
    $("#service-rule").replaceChildren(el("option", { value: "" }, "—"),
      ...rules.map((rule) => el("option", { value: rule.code }, `${rule.name} (${rule.code})`)));
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

  /* --- approvals: filtered by rule, a page at a time, several approved at once ------- */
  async function decide(id, verb, body) {
    try {
      await api("POST", `/v1/awards/${id}/${verb}`, body);
      notice(t("saved"));
      await showPending();
    } catch (error) { notice(problem(error), "error"); }
  }

  let pendingCursor = null;

  function selectedAwards() {
    return [...document.querySelectorAll("#pending input[data-select]:checked")]
      .map((box) => box.dataset.select);
  }

  function pendingRow(a) {
    const reason = el("input", { id: `reason-${a.id}`, maxlength: 500 });
    const amount = a.minutes ? duration(a.minutes) : a.quantity ? `× ${a.quantity}` : "";
    const box = el("input", { type: "checkbox", id: `select-${a.id}`, "data-select": a.id,
                              onchange: () => { $("#approve-selected").disabled = !selectedAwards().length; } });
    return el("li", { "data-award": a.id },
      el("span", { class: "row" }, box,
        el("label", { for: `select-${a.id}`, class: "what" },
          `${a.member_name} · ${a.rule_name} ${amount} +${a.points}`)),
      el("span", { class: "when" }, when(a.occurred_at)),
      el("span", { class: "row" },
        el("button", { type: "button", onclick: () => decide(a.id, "approve") }, t("approve")),
        el("label", { for: `reason-${a.id}` }, t("reason")), reason,
        el("button", { type: "button", class: "secondary",
                       onclick: () => decide(a.id, "reject", { reason: reason.value || t("reject") }) },
          t("reject"))));
  }

  async function showPending(more = false) {
    const query = new URLSearchParams({ status: "pending", community_id: communityId, limit: 50 });
    const rule = $("#pending-rule").value;
    if (rule) query.set("rule_code", rule);
    if (more && pendingCursor) query.set("cursor", pendingCursor);
    const page = await api("GET", "/v1/awards?" + query);
    pendingCursor = page.next_cursor;
    $("#pending-more").hidden = !pendingCursor;
    const rows = page.items.map(pendingRow);
    if (more) $("#pending").append(...rows);
    else $("#pending").replaceChildren(...(rows.length ? rows
      : [el("li", { class: "empty" }, t("no_pending"))]));
    $("#approve-selected").disabled = !selectedAwards().length;
  }

  $("#pending-rule").addEventListener("change", () => showPending().catch(
    (error) => notice(problem(error), "error")));
  $("#pending-more").addEventListener("click", () => showPending(true).catch(
    (error) => notice(problem(error), "error")));
  $("#approve-selected").addEventListener("click", async () => {
    const chosenIds = selectedAwards();
    let done = 0;
    for (const id of chosenIds) {
      try {
        await api("POST", `/v1/awards/${id}/approve`);
        done += 1;
      } catch (error) { notice(problem(error), "error"); break; }
    }
    if (done) notice(t("approved_n").replace("{n}", done));
    await showPending();
  });

  /* --- the rulebook: retire a rule, restore it as a new version ---------------------- */
  function showRulebook(rules) {
    const filter = $("#pending-rule");
    const kept = filter.value;
    filter.replaceChildren(el("option", { value: "" }, t("all_rules")),
      ...rules.map((rule) => el("option", { value: rule.code }, `${rule.name} (${rule.code})`)));
    filter.value = kept;
    $("#rules").replaceChildren(...(rules.length ? rules.map((rule) => {
      const state = rule.retired ? ` · ${t("rule_retired")}` : "";
      const action = !mayAct ? null : rule.retired
        ? el("button", { type: "button", "data-restore": rule.code,
                         onclick: () => restoreRule(rule) }, t("restore_rule"))
        : el("button", { type: "button", class: "secondary", "data-retire": rule.code,
                         onclick: () => retireRule(rule) }, t("retire_rule"));
      return el("li", { "data-rule-row": rule.code, class: rule.retired ? "retired" : "" },
        el("span", { class: "what" }, `${rule.name} · ${rule.points}${t("points_unit")}`,
          el("small", {}, ` v${rule.version}${state}`)), action);
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  async function retireRule(rule) {
    try {
      await api("DELETE", `/v1/communities/${communityId}/rules/${encodeURIComponent(rule.code)}`);
      notice(t("saved"));
      await showRules();
    } catch (error) { notice(problem(error), "error"); }
  }

  async function restoreRule(rule) {
    const body = { name: rule.name, points: rule.points, unit: rule.unit,
                   requires_approval: rule.requires_approval };
    if (rule.daily_cap) body.daily_cap = rule.daily_cap;
    if (rule.monthly_cap) body.monthly_cap = rule.monthly_cap;
    try {
      await api("PUT", `/v1/communities/${communityId}/rules/${encodeURIComponent(rule.code)}`, body);
      notice(t("saved"));
      await showRules();
    } catch (error) { notice(problem(error), "error"); }
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
      households.push(household);
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
      const row = { member_id: member.id, name: member.name, passbook_no: member.passbook_no,
                    household_id: member.household_id, grid_id: member.grid_id,
                    status: member.status };
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

  let linksAsked = 0; // clicks on a sign-in link button not yet done

  async function signInLink(m) {
    const path = `/v1/members/${m.member_id}/sign-in-links`;
    linksAsked += 1;
    try {
      let link = await api("POST", path, {});
      if (!link.url.includes("#token=")) {
        // A replay (the link's token is shown once): a double click's second click while the
        // link is shown; asked again after the dialog closed, a new link.
        if (linksAsked > 1 || dialog.open) return;
        Linli.newAction("POST", path, {});
        link = await api("POST", path, {});
      }
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
    finally { linksAsked -= 1; }
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

  const statusWord = (status) => t("member_status_" + status);

  function options(select, items, chosenId) {
    select.replaceChildren(el("option", { value: "" }, "—"), ...items.map(
      (item) => el("option", { value: item.id }, item.name || item.address)));
    select.value = chosenId || "";
  }

  function editMember(m) {
    const result = el("p", { class: "result", id: "edit-result", "aria-live": "polite" });
    const name = el("input", { id: "edit-name", maxlength: 200, required: true, value: m.name });
    const household = el("select", { id: "edit-household" });
    const grid = el("select", { id: "edit-grid" });
    const status = el("select", { id: "edit-status" }, ["active", "moved_out", "deceased"].map(
      (s) => el("option", { value: s }, statusWord(s))));
    const reason = el("input", { id: "edit-reason", maxlength: 500 });
    options(household, households, m.household_id);
    options(grid, grids, m.grid_id);
    status.value = m.status || "active";
    const form = el("form", { id: "edit-form", onsubmit: async (event) => {
      event.preventDefault();
      // Only what changed is sent: a new household brings its grid unless a grid is chosen.
      const body = {};
      if (name.value.trim() !== m.name) body.name = name.value;
      if (household.value !== (m.household_id || "")) body.household_id = household.value || null;
      if (grid.value !== (m.grid_id || "")) body.grid_id = grid.value || null;
      if (status.value !== (m.status || "active")) body.status = status.value;
      if (reason.value.trim()) body.reason = reason.value.trim();
      try {
        const changed = await api("PATCH", `/v1/members/${m.member_id}`, body);
        Object.assign(m, { name: changed.name, household_id: changed.household_id,
                           grid_id: changed.grid_id, status: changed.status });
        options(grid, grids, m.grid_id);
        result.textContent = `${t("edit_saved")} ${m.name} · ${statusWord(m.status)}`;
        notice(t("saved"));
        await Promise.all([showRoster(), findMembers($("#member-search").value.trim())]);
      } catch (error) { result.textContent = problem(error); }
    } },
    el("label", { for: "edit-name" }, t("resident_name")), name,
    el("label", { for: "edit-household" }, t("household")), household,
    el("label", { for: "edit-grid" }, t("grid")), grid,
    el("label", { for: "edit-status" }, t("member_status")), status,
    el("p", { class: "help" }, t("inactive_help")),
    el("label", { for: "edit-reason" }, t("edit_reason")), reason,
    el("button", { type: "submit" }, t("save")));
    openDialog(`${t("edit_member")} · ${m.name}`, el("p", {}, who(m)), form, result);
    name.focus();
  }

  /* --- a member's passbook, and reversing an award from it ---------------------------- */
  function reverseForm(m, line, awardId) {
    const id = `rev-${awardId}`;
    const points = el("input", { id: `${id}-points`, type: "number", min: 1,
                                 max: line.amount, inputmode: "numeric" });
    const debt = el("input", { id: `${id}-debt`, type: "checkbox" });
    const reason = el("input", { id: `${id}-reason`, maxlength: 500, required: true });
    const result = el("p", { class: "result", id: `${id}-result`, "aria-live": "polite" });
    return el("form", { class: "reverse", "data-reverse": awardId, onsubmit: async (event) => {
      event.preventDefault();
      const body = { reason: reason.value.trim() || t("reverse") };
      if (points.value) body.points = Number(points.value);
      if (debt.checked) body.allow_debt = true;
      try {
        const award = await api("POST", `/v1/awards/${awardId}/reverse`, body);
        result.textContent = t("reversed_done").replace("{n}", body.points || line.amount);
        notice(t("saved"));
        if (award) await showPassbook(m);
      } catch (error) { result.textContent = problem(error); }
    } },
    el("label", { for: `${id}-points` }, t("reverse_points")), points,
    el("label", { for: `${id}-reason` }, t("reason")), reason,
    el("span", { class: "row" }, debt, el("label", { for: `${id}-debt` }, t("allow_debt"))),
    el("button", { type: "submit" }, t("reverse")), result);
  }

  async function showPassbook(m) {
    try {
      const lines = (await api("GET", `/v1/members/${m.member_id}/passbook?limit=50`)).items;
      const rows = lines.map((line) => {
        const awardId = line.kind === "award" && line.reference.startsWith("award:")
          ? line.reference.slice(6) : null;
        const sign = line.amount > 0 ? "+" : "";
        const with_ = line.counterparty ? ` · ${t("counterparty")} ${line.counterparty}` : "";
        return el("li", { "data-line": line.reference },
          el("span", { class: "what" }, `${t("kind_" + line.kind)} ${sign}${line.amount} · ${line.description}${with_}`),
          el("span", { class: "when" }, `${t("occurred")} ${when(line.occurred_at)}`),
          el("span", { class: "balance" }, `${t("balance_after")} ${line.balance_after}`),
          awardId && mayAct ? el("details", {}, el("summary", {}, t("reverse")),
            reverseForm(m, line, awardId)) : null);
      });
      openDialog(`${t("member_passbook")} · ${m.name}`, el("p", {}, who(m)),
        el("ul", { class: "lines", id: "member-passbook" },
          ...(rows.length ? rows : [el("li", { class: "empty" }, t("no_lines"))])));
    } catch (error) { notice(problem(error), "error"); }
  }

  function memberActions(m) {
    if (!mayAct) return [];
    return [
      el("button", { type: "button", "data-action": "edit",
                     onclick: () => editMember(m) }, t("edit")),
      el("button", { type: "button", class: "secondary", "data-action": "passbook",
                     onclick: () => showPassbook(m) }, t("member_passbook")),
      el("button", { type: "button", class: "secondary", "data-action": "print-passbook",
                     onclick: () => paper(`/v1/members/${m.member_id}/passbook/statement?` +
                       new URLSearchParams({ period: $("#report-period").value.trim() || "all" })) },
         t("print_passbook")),
      el("button", { type: "button", class: "secondary", "data-action": "certificate",
                     onclick: () => paper(`/v1/members/${m.member_id}/certificate`) },
         t("print_certificate")),
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
      el("span", { class: "what" }, m.name, " ", el("small", {}, m.passbook_no),
        m.status && m.status !== "active"
          ? el("small", { class: "status", "data-status": m.status }, ` · ${statusWord(m.status)}`)
          : null),
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
        if (teams.length) {
          const team = el("select", { id: `team-${order.id}`, "data-team-select": "" },
            teams.map((tm) => el("option", { value: tm.id }, tm.name)));
          row.append(el("span", { class: "row" },
            el("label", { for: `team-${order.id}` }, t("team_label")), team,
            el("button", { type: "button", "data-action": "dispatch-team",
                           onclick: () => step(order.id, "dispatch", { team_id: team.value }) },
              t("dispatch_team"))));
        }
      } else if (order.status === "completed") {
        row.append(el("button", { type: "button", onclick: () => step(order.id, "confirm", {}) },
          t("confirm_service")));
      }
      return row;
    }) : [el("li", { class: "empty" }, t("no_requests"))]));
  }

  /* --- volunteer teams ------------------------------------------------------------- */
  let teams = [];

  async function teamChange(method, path, body) {
    try {
      await api(method, path, body);
      notice(t("saved"));
      await showTeams();
    } catch (error) { notice(problem(error), "error"); }
  }

  function teamRow(team) {
    const select = el("select", { id: `join-${team.id}` },
      members.filter((m) => !team.members.some((tm) => tm.member_id === m.member_id))
        .map((m) => el("option", { value: m.member_id }, `${m.name} ${m.passbook_no}`)));
    const path = `/v1/teams/${team.id}/members`;
    return el("li", { "data-team": team.id },
      el("span", { class: "what" }, team.name),
      el("ul", { class: "lines" }, ...(team.members.length ? team.members.map((m) =>
        el("li", { "data-member": m.member_id }, m.name, " ",
          mayAct ? el("button", { type: "button", class: "secondary", "data-action": "remove",
                                  onclick: () => teamChange("DELETE", `${path}/${m.member_id}`) },
            t("remove_from_team")) : null))
        : [el("li", { class: "empty" }, t("no_team_members"))])),
      mayAct ? el("span", { class: "row" },
        el("label", { for: `join-${team.id}` }, t("resident")), select,
        el("button", { type: "button", "data-action": "join",
                       onclick: () => teamChange("POST", path, { member_id: select.value }) },
          t("add_to_team"))) : null);
  }

  async function showTeams() {
    teams = (await api("GET", `/v1/teams?community_id=${communityId}`)).items;
    $("#teams").replaceChildren(...(teams.length ? teams.map(teamRow)
      : [el("li", { class: "empty" }, t("no_teams"))]));
    await showOrders();
  }

  $("#team-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = $("#team-name").value.trim();
    await teamChange("POST", "/v1/teams", { community_id: communityId, name });
    $("#team-name").value = "";
  });

  /* --- the service catalogue --------------------------------------------------------- */
  async function showServices() {
    const items = (await api("GET", `/v1/communities/${communityId}/services`)).items;
    $("#services").replaceChildren(...(items.length ? items.map((service) =>
      el("li", { "data-service": service.code },
        el("span", { class: "what" }, `${service.code} · ${service.name}`),
        el("span", { class: "when" }, [duration(service.default_minutes), service.rule_code]
          .filter(Boolean).join(" · ")),
        mayAct ? el("button", { type: "button", class: "secondary", onclick: () => {
          $("#service-code").value = service.code;
          $("#service-name").value = service.name;
          $("#service-minutes").value = service.default_minutes;
          $("#service-rule").value = service.rule_code || "";
          $("#service-name").focus();
        } }, t("edit")) : null))
      : [el("li", { class: "empty" }, t("no_services"))]));
  }

  $("#service-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { name: form.name.value.trim(),
                   default_minutes: Number(form.default_minutes.value) };
    if (form.rule_code.value) body.rule_code = form.rule_code.value;
    const code = encodeURIComponent(form.code.value.trim());
    try {
      await api("PUT", `/v1/communities/${communityId}/services/${code}`, body);
      notice(t("saved"));
      form.reset();
      await showServices();
    } catch (error) { notice(problem(error), "error"); }
  });

  /* --- the service report ------------------------------------------------------------ */
  async function showReport() {
    const period = $("#report-period").value.trim() || "all";
    const query = new URLSearchParams({ community_id: communityId, period });
    const report = await api("GET", "/v1/reports/service?" + query);
    const minutes = (value) => value === null ? "—" : `${value} ${t("minutes_unit")}`;
    const figures = [
      ["requests", report.requests], ["completed", report.completed], ["rated", report.rated],
      ["satisfaction", report.satisfaction_percent === null ? "—"
        : `${report.satisfaction_percent}%`],
      ["dispatch", minutes(report.median_dispatch_minutes)],
      ["completion", minutes(report.median_completion_minutes)]];
    $("#report").replaceChildren(...figures.flatMap(([key, value]) => [
      el("dt", {}, t("report_" + key)), el("dd", { id: `report-${key}` }, String(value))]));
    const year = /^\d{4}/.test(period) ? period.slice(0, 4) : String(new Date().getFullYear());
    const chartQuery = new URLSearchParams({ year, community_id: communityId,
                                             lang: Linli.lang === "en" ? "en" : "zh" });
    const svg = await api("GET", "/web/charts/service.svg?" + chartQuery, undefined,
                          { Accept: "image/svg+xml" });
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    $("#chart-service").replaceChildren(document.importNode(parsed, true));
  }

  $("#report-period").addEventListener("change", () => showReport().catch(
    (error) => notice(problem(error), "error")));

  /* --- papers to print --------------------------------------------------------------- */
  function paper(path) {
    Linli.openPaper(path).catch((error) => notice(problem(error), "error"));
  }

  function thisMonth() {
    const now = new Date();
    return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}`;
  }

  $("#print-board").addEventListener("click", () => paper(
    `/v1/communities/${communityId}/boards/${thisMonth()}`));
  $("#print-review").addEventListener("click", () => {
    const now = new Date();
    paper(`/v1/communities/${communityId}/reviews/${now.getFullYear()}-Q` +
          `${Math.floor(now.getMonth() / 3) + 1}/print`);
  });

  /* --- sign-in keys ------------------------------------------------------------------ */
  const REVOCABLE = ["member", "merchant"];
  let keysCursor = null;

  async function revoke(key) {
    if (!confirm(t("revoke_confirm"))) return;
    try {
      await api("DELETE", `/v1/api-keys/${key.id}`);
      notice(t("saved"));
      await showKeys();
    } catch (error) { notice(problem(error), "error"); }
  }

  function keyRow(key) {
    const whose = key.member_id || key.merchant_id || "";
    const when = [`${t("key_made")} ${Linli.day(key.created_at)}`,
                  key.expires_at ? `${t("key_expires")} ${Linli.when(key.expires_at)}` : ""];
    return el("li", { "data-key": key.id, class: key.revoked ? "revoked" : null },
      el("span", { class: "what" }, t("key_role_" + key.role), " ",
        el("small", {}, [key.label, key.sign_in_link ? t("key_signin_link") : "",
                         whose.slice(0, 8)].filter(Boolean).join(" · "))),
      el("span", { class: "when" }, when.filter(Boolean).join(" · ")),
      key.revoked ? el("span", { class: "row" }, t("key_revoked"))
        : mayAct && REVOCABLE.includes(key.role)
          ? el("button", { type: "button", class: "secondary", "data-action": "revoke",
                           onclick: () => revoke(key) }, t("revoke")) : null);
  }

  async function showKeys(more = false) {
    const query = new URLSearchParams({ community_id: communityId, limit: 50 });
    if (more && keysCursor) query.set("cursor", keysCursor);
    const page = await api("GET", "/v1/api-keys?" + query);
    keysCursor = page.next_cursor;
    $("#keys-more").hidden = !keysCursor;
    const rows = page.items.map(keyRow);
    if (more) $("#keys").append(...rows);
    else $("#keys").replaceChildren(...(rows.length ? rows : [el("li", { class: "empty" }, t("no_keys"))]));
  }

  $("#keys-more").addEventListener("click", () => showKeys(true).catch(
    (error) => notice(problem(error), "error")));

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
    grids = (await api("GET", `/v1/communities/${communityId}/grids?limit=500`)).items;
    households = (await api("GET", `/v1/households?community_id=${communityId}&limit=500`)).items;
    document.querySelectorAll("select.grids").forEach((select) => select.append(
      ...grids.map((g) => el("option", { value: g.id }, g.name))));
    $("#member-household").append(
      ...households.map((h) => el("option", { value: h.id }, h.address)));
    await Promise.all([findMembers(""), showRoster(""), showRules(), showPending(), showCharts()]);
    await Promise.all([showTeams(), showKeys(), showServices(), showReport()]);
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
