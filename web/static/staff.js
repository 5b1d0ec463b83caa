/* Staff console, by task (the tabs are Linli.console's): registering households and
   residents and the residents' list (a sign-in link, the member card, a PIN, a payment code at
   the counter, editing a resident, the passbook with its awards to reverse); an award in three
   clicks; approvals (filtered by rule, a page selected and approved in one request); service
   orders (who asked, where, when, what; a volunteer found by search; 待复核 confirmed or
   dismissed), teams and the service catalogue; the rulebook (retire, restore, edit); the
   service report and the dashboard's charts; the community's sign-in keys. Every action says
   its result or its problem beside the control that caused it, and posts with its own
   Idempotency-Key (see `Linli.apiResponse`): a double click posts once. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, duration, when } = Linli;
  const signedIn = Linli.pageFor("staff", "auditor");
  if (!signedIn) return;
  const scope = signedIn.communities || [];  // a district's staff: its communities
  const asked = new URLSearchParams(location.search).get("community_id");
  const communityId = signedIn.community_id || (scope.length && !scope.includes(asked)
    ? scope[0] : asked);
  if (!communityId) { notice(t("need_role"), "error"); return; }
  const C = Linli.console;
  const beside = Linli.sayBeside;
  C.startTabs(signedIn.role);
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
      (error) => C.fail(error)), 200);
  });
  $("#award-confirm").addEventListener("click", async () => {
    const { member, rule } = chosen;
    const amount = Number($("#award-amount").value);
    const body = { member_id: member.member_id, rule_code: rule.code };
    if (rule.unit === "hour") body.minutes = amount; else body.quantity = amount;
    const result = $("#award-result");
    result.textContent = "";
    result.className = "result";
    try {
      const award = await api("POST", "/v1/awards", body);
      const words = award.status === "pending" ? "c_award_pending" : "c_award_done";
      C.say(result, C.fill(t(words), { name: member.name, rule: rule.name, points: award.points }));
      if (award.status === "pending") await showPending();
    } catch (error) {
      C.say(result, C.fill(t("c_award_failed"), { detail: problem(error) }), false);
    }
    result.scrollIntoView({ block: "nearest" });
  });

  /* --- approvals: filtered by rule, a page at a time, several approved at once ------- */
  async function decide(id, verb, body, button) {
    try {
      await api("POST", `/v1/awards/${id}/${verb}`, body);
      const row = button.closest("li");
      row.classList.add("decided");
      row.querySelectorAll("button, input").forEach((control) => { control.disabled = true; });
      beside(button, t(verb === "approve" ? "c_approved_ok" : "c_rejected_ok"));
    } catch (error) { beside(button, problem(error), "error"); }
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
        el("button", { type: "button", "data-action": "approve",
                       onclick: (event) => decide(a.id, "approve", undefined, event.target) },
          t("approve")),
        el("label", { for: `reason-${a.id}` }, t("reason")), reason,
        el("button", { type: "button", class: "secondary", "data-action": "reject",
                       onclick: (event) => decide(a.id, "reject",
                         { reason: reason.value || t("reject") }, event.target) },
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
    $("#select-all-pending").checked = false;
  }

  $("#select-all-pending").addEventListener("change", (event) => {
    document.querySelectorAll("#pending input[data-select]:not(:disabled)").forEach((box) => {
      box.checked = event.target.checked;
    });
    $("#approve-selected").disabled = !selectedAwards().length;
  });

  $("#pending-rule").addEventListener("change", () => showPending().catch(
    (error) => C.fail(error)));
  $("#pending-more").addEventListener("click", () => showPending(true).catch(
    (error) => C.fail(error)));
  $("#approve-selected").addEventListener("click", async () => {
    const chosenIds = selectedAwards();
    const button = $("#approve-selected");
    button.disabled = true;
    try {
      // One request: each award stands alone, posted or refused with its own problem.
      const { items } = await api("POST", "/v1/awards/approvals", { award_ids: chosenIds });
      const failed = items.filter((item) => item.status !== 200);
      const done = items.length - failed.length;
      if (failed.length) {
        const first = failed[0].problem || {};
        C.say($("#batch-result"), C.fill(t("c_batch_failed"),
          { n: done, m: failed.length, detail: first.detail || first.title || "" }), false);
      } else C.say($("#batch-result"), C.fill(t("c_batch_done"), { n: done }));
      await showPending();
      for (const item of failed) {
        const row = $(`[data-award="${item.award_id}"]`);
        if (row) beside(row, (item.problem || {}).detail || "", "error");
      }
    } catch (error) {
      C.say($("#batch-result"), problem(error), false);
      button.disabled = !selectedAwards().length;
    }
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
      const edit = mayAct && !rule.retired ? el("button", { type: "button", class: "secondary",
        "data-edit-rule": rule.code, onclick: () => C.editRule(rule) }, t("edit")) : null;
      const unit = rule.unit === "hour" ? `/${t("hour_unit")}` : "";
      const caps = [rule.daily_cap ? C.fill(t("c_daily_cap"), { n: rule.daily_cap }) : "",
                    rule.requires_approval ? t("c_rule_approval") : ""].filter(Boolean).join(" · ");
      return el("li", { "data-rule-row": rule.code, class: rule.retired ? "retired" : "" },
        el("span", { class: "what" }, `${rule.name} · ${rule.points}${t("points_unit")}${unit}`,
          el("small", {}, ` ${rule.code} v${rule.version}${state}`)),
        caps ? el("span", { class: "when" }, caps) : null,
        el("span", { class: "row" }, edit, action));
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  async function retireRule(rule) {
    try {
      await api("DELETE", `/v1/communities/${communityId}/rules/${encodeURIComponent(rule.code)}`);
      await showRules();
      beside($(`[data-rule-row="${rule.code}"]`), `${rule.name} · ${t("rule_retired")}`);
    } catch (error) { beside($(`[data-rule-row="${rule.code}"]`), problem(error), "error"); }
  }

  async function restoreRule(rule) {
    const body = { name: rule.name, points: rule.points, unit: rule.unit,
                   requires_approval: rule.requires_approval };
    if (rule.daily_cap) body.daily_cap = rule.daily_cap;
    if (rule.monthly_cap) body.monthly_cap = rule.monthly_cap;
    try {
      await api("PUT", `/v1/communities/${communityId}/rules/${encodeURIComponent(rule.code)}`, body);
      await showRules();
      beside($(`[data-rule-row="${rule.code}"]`), `${rule.name} · ${t("saved")}`);
    } catch (error) { beside($(`[data-rule-row="${rule.code}"]`), problem(error), "error"); }
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
      registered(el("p", {}, `${t("household")} · ${body.address} · ${t("saved")}`));
      form.reset();
    } catch (error) { registered(); beside(form.querySelector("button"), problem(error), "error"); }
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
      form.reset();
      await Promise.all([findMembers(""), showRoster()]);
    } catch (error) { registered(); beside(form.querySelector("button"), problem(error), "error"); }
  });

  /* --- the residents' list: a sign-in link, the card, a PIN, a payment code -------------- */
  const mayAct = signedIn.role !== "auditor";
  const ERASED = "已注销居民";  // an erased resident's name, whatever the page's language
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
    } catch (error) { C.fail(error); }
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
      } catch (error) { result.textContent = problem(error); }
    } },
    el("label", { for: "pin-new" }, t("pin_new")), first,
    el("label", { for: "pin-again" }, t("pin_again")), second,
    el("button", { type: "submit" }, t("save_pin")));
    openDialog(`${t("set_pin")} · ${m.name}`, el("p", {}, who(m)), form, result);
    first.focus();
  }

  function eraseMember(m) {
    const result = el("p", { class: "result", id: "erase-result", "aria-live": "polite" });
    const reason = el("input", { id: "erase-reason", maxlength: 500, required: true });
    const form = el("form", { id: "erase-form", onsubmit: async (event) => {
      event.preventDefault();
      if (!confirm(t("erase_confirm"))) return;
      try {
        await api("POST", `/v1/members/${m.member_id}/erasure`, { reason: reason.value.trim() });
        form.remove();
        result.textContent = t("erase_done");
        showRoster().catch(() => {});
      } catch (error) { result.textContent = problem(error); }
    } },
    el("label", { for: "erase-reason" }, t("erase_reason")), reason,
    el("button", { type: "submit", class: "danger" }, t("erase")));
    openDialog(`${t("erase")} · ${m.name}`, el("p", {}, who(m)),
      el("p", { class: "help" }, t("erase_help")), form, result);
    reason.focus();
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
    } catch (error) { C.fail(error); }
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
    } catch (error) { C.fail(error); }
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
      el("button", { type: "button", class: "secondary", "data-action": "personal-data",
                     onclick: () => paper(`/v1/members/${m.member_id}/personal-data?format=html`) },
         t("personal_data")),
      signedIn.role === "admin" && m.name !== ERASED
        ? el("button", { type: "button", class: "secondary", "data-action": "erase",
                         onclick: () => eraseMember(m) }, t("erase"))
        : null,
    ];
  }

  let rosterCursor = null;

  async function showRoster(text = $("#roster-search").value.trim(), more = false) {
    const query = new URLSearchParams({ community_id: communityId, q: text, limit: 10 });
    if (more && rosterCursor) query.set("cursor", rosterCursor);
    const page = await api("GET", "/v1/members?" + query);
    rosterCursor = page.next_cursor;
    $("#roster-more").hidden = !rosterCursor;
    const rows = page.items.map((m) => el("li",
      { "data-roster": m.member_id },
      el("span", { class: "what" }, m.name, " ", el("small", {}, m.passbook_no),
        m.status && m.status !== "active"
          ? el("small", { class: "status", "data-status": m.status }, ` · ${statusWord(m.status)}`)
          : null),
      el("span", { class: "row actions" }, memberActions(m))));
    if (more) $("#roster").append(...rows);
    else $("#roster").replaceChildren(...(rows.length ? rows
      : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  let rosterTimer = null;
  $("#roster-search").addEventListener("input", () => {
    clearTimeout(rosterTimer);
    rosterTimer = setTimeout(() => showRoster().catch(
      (error) => beside($("#roster-search"), problem(error), "error")), 200);
  });
  $("#roster-more").addEventListener("click", () => showRoster(undefined, true).catch(
    (error) => beside($("#roster-more"), problem(error), "error")));

  /* --- service orders: who asked, where, when, what; a volunteer found by search ------- */
  let people = [];  // the first residents of the community, before any search
  let ordersCursor = null;

  async function step(order, verb, body, button, said) {
    try {
      const changed = await api("POST", `/v1/service-requests/${order.id}/${verb}`, body);
      // The order stays where it was, in its new state, with what was done beside it.
      Object.assign(order, { status: changed.status, minutes: changed.minutes,
                             stars: changed.stars, volunteer_id: changed.volunteer_id });
      const row = orderRow(order);
      $(`[data-order="${order.id}"]`).replaceWith(row);
      beside(row, said);
    } catch (error) { beside(button, problem(error), "error"); }
  }

  function orderRow(order) {
    const facts = [
      [t("c_requester"), order.requester_name || "—"],
      [t("c_address"), order.requester_address || "—"],
      [t("c_requested_at"), when(order.requested_at)],
      [t("c_description"), order.description || "—"],
    ];
    if (order.minutes_estimate) facts.push([t("c_estimate"), duration(order.minutes_estimate)]);
    if (order.minutes) facts.push([t("minutes"), duration(order.minutes)]);
    if (order.stars) facts.push([t("c_rating"), C.fill(t("c_stars"), { n: order.stars })]);
    const row = el("li", { "data-order": order.id, "data-status": order.status, class: "order" },
      el("span", { class: "what" }, `${order.service_type} · `,
        el("strong", { class: `status status-${order.status}` }, t("status_" + order.status))),
      el("dl", { class: "order-facts" }, ...facts.map(([term, value]) =>
        el("div", {}, el("dt", {}, term), el("dd", {}, value)))));
    if (!mayAct) return row;
    if (order.status === "requested") {
      const holder = el("div", { class: "picker", "data-picker": `volunteer-${order.id}`,
                                 "data-label": t("volunteer_id") });
      const chooser = C.picker(holder, communityId, people);
      row.append(holder, el("span", { class: "row" },
        el("button", { type: "button", "data-action": "dispatch", onclick: (event) => {
          if (!chooser.value()) { beside(event.target, t("c_need_person"), "error"); return; }
          step(order, "dispatch", { volunteer_id: chooser.value() }, event.target,
               C.fill(t("c_dispatched_ok"), { name: chooser.name() }));
        } }, t("dispatch"))));
      if (teams.length) {
        const team = el("select", { id: `team-${order.id}`, "data-team-select": "" },
          teams.map((tm) => el("option", { value: tm.id }, tm.name)));
        row.append(el("span", { class: "row" },
          el("label", { for: `team-${order.id}` }, t("team_label")), team,
          el("button", { type: "button", "data-action": "dispatch-team",
                         onclick: (event) => step(order, "dispatch", { team_id: team.value },
                           event.target, C.fill(t("c_dispatched_ok"),
                             { name: team.selectedOptions[0].textContent })) },
            t("dispatch_team"))));
      }
    } else if (order.status === "completed") {
      row.append(el("span", { class: "row" }, el("button", {
        type: "button", "data-action": "confirm",
        onclick: (event) => step(order, "confirm", {}, event.target, t("c_confirmed_ok")) },
      t("confirm_service"))));
    } else if (order.status === "under_review") {
      const reason = el("input", { id: `dismiss-reason-${order.id}`, maxlength: 500 });
      row.append(el("span", { class: "row" },
        el("button", { type: "button", "data-action": "review-confirm",
                       onclick: (event) => step(order, "confirm", {}, event.target,
                         t("c_confirmed_ok")) }, t("c_review_confirm"))),
      el("span", { class: "row" },
        el("label", { for: reason.id }, t("c_review_reason")), reason,
        el("button", { type: "button", class: "secondary", "data-action": "review-dismiss",
                       onclick: (event) => step(order, "dismiss",
                         { reason: reason.value.trim() || t("c_review_dismiss") }, event.target,
                         t("c_dismissed_ok")) }, t("c_review_dismiss"))));
    }
    return row;
  }

  async function showOrders(more = false) {
    const list = $("#orders");
    const query = new URLSearchParams({ community_id: communityId, limit: 20 });
    if ($("#orders-status").value) query.set("status", $("#orders-status").value);
    if (more && ordersCursor) query.set("cursor", ordersCursor);
    let page;
    try {
      page = await api("GET", "/v1/service-requests?" + query);
    } catch (error) {
      if (error.status === 404 || error.status === 405) {
        list.replaceChildren(el("li", { class: "empty" }, t("service_unavailable")));
        return;
      }
      throw error;
    }
    ordersCursor = page.next_cursor;
    $("#orders-more").hidden = !ordersCursor;
    const rows = page.items.map(orderRow);
    if (more) list.append(...rows);
    else list.replaceChildren(...(rows.length ? rows
      : [el("li", { class: "empty" }, t("no_requests"))]));
  }

  $("#orders-status").addEventListener("change", () => showOrders().catch(
    (error) => beside($("#orders-status"), problem(error), "error")));
  $("#orders-more").addEventListener("click", () => showOrders(true).catch(
    (error) => beside($("#orders-more"), problem(error), "error")));

  /* --- volunteer teams ------------------------------------------------------------- */
  let teams = [];

  async function teamChange(method, path, body, button) {
    const teamId = button.closest("[data-team]")?.dataset.team;
    try {
      const team = await api(method, path, body);
      await showTeams();
      const row = $(`[data-team="${teamId || team.id}"]`);
      beside(row || $("#team-form"), `${team.name} · ${t("saved")}`);
    } catch (error) { beside(button, problem(error), "error"); }
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
                                  onclick: (event) => teamChange("DELETE", `${path}/${m.member_id}`,
                                    undefined, event.target) },
            t("remove_from_team")) : null))
        : [el("li", { class: "empty" }, t("no_team_members"))])),
      mayAct ? el("span", { class: "row" },
        el("label", { for: `join-${team.id}` }, t("resident")), select,
        el("button", { type: "button", "data-action": "join",
                       onclick: (event) => teamChange("POST", path, { member_id: select.value },
                                                      event.target) },
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
    await teamChange("POST", "/v1/teams", { community_id: communityId, name },
                     event.target.querySelector("button"));
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
      form.reset();
      await showServices();
      beside(form.querySelector("button"), `${body.name} · ${t("saved")}`);
    } catch (error) { beside(form.querySelector("button"), problem(error), "error"); }
  });

  /* --- the service report ------------------------------------------------------------ */
  /** Returns a counter of requests: each call gives a check that is true until the next call,
   *  so an answer that comes back after a later request's is dropped rather than shown. */
  function latestOnly() {
    let asked = 0;
    return () => {
      const mine = ++asked;
      return () => mine === asked;
    };
  }
  const reportAsked = latestOnly();
  const chartsAsked = latestOnly();

  async function showReport() {
    const current = reportAsked();
    const period = $("#report-period").value.trim() || "all";
    const query = new URLSearchParams({ community_id: communityId, period });
    const report = await api("GET", "/v1/reports/service?" + query);
    if (!current()) return;
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
    const chartQuery = new URLSearchParams({ year, community_id: communityId, width: chartWidth(),
                                             lang: Linli.lang === "en" ? "en" : "zh" });
    const svg = await api("GET", "/web/charts/service.svg?" + chartQuery, undefined,
                          { Accept: "image/svg+xml" });
    if (!current()) return;
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    $("#chart-service").replaceChildren(document.importNode(parsed, true));
  }

  $("#report-period").addEventListener("change", () => showReport().catch(
    (error) => C.fail(error)));

  /* --- papers to print --------------------------------------------------------------- */
  function paper(path) {
    Linli.openPaper(path).catch((error) => C.fail(error));
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

  /* --- the access log of personal data (auditors) ------------------------------------- */
  let accessCursor = null;

  async function showAccessLog(more = false) {
    const query = new URLSearchParams({ limit: 20 });
    if (more && accessCursor) query.set("cursor", accessCursor);
    const page = await api("GET", "/v1/audit/access-log?" + query);
    accessCursor = page.next_cursor;
    $("#access-log-more").hidden = !accessCursor;
    const rows = page.items.map((read) => el("li", { "data-read": String(read.id) },
      el("span", { class: "what" }, `${t("key_role_" + read.actor_role)} · ${read.what}`,
        read.rows > 1 ? ` · ${read.rows}` : ""),
      el("span", { class: "when" }, when(read.read_at)),
      el("small", {}, read.route)));
    if (more) $("#access-log").append(...rows);
    else $("#access-log").replaceChildren(...(rows.length ? rows
      : [el("li", { class: "empty" }, t("no_lines"))]));
  }
  $("#access-log-more").addEventListener("click", () => showAccessLog(true).catch(
    (error) => beside($("#access-log-more"), problem(error), "error")));

  /* --- sign-in keys ------------------------------------------------------------------ */
  const REVOCABLE = ["member", "merchant"];
  let keysCursor = null;

  async function revoke(key) {
    if (!confirm(t("revoke_confirm"))) return;
    try {
      await api("DELETE", `/v1/api-keys/${key.id}`);
      await showKeys();
      const row = $(`[data-key="${key.id}"]`);
      if (row) beside(row, t("key_revoked"));
    } catch (error) { beside($(`[data-key="${key.id}"]`), problem(error), "error"); }
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
    (error) => beside($("#keys-more"), problem(error), "error")));

  /* --- dashboard --------------------------------------------------------------------- */
  /** The width a chart is drawn at: the width it is shown at, so its text keeps its size. */
  function chartWidth() {
    const shown = $("#chart-points").clientWidth;
    const main = $("#main").clientWidth;
    const width = shown || (main < 1000 ? main - 56 : main / 2 - 64);
    return String(Math.round(Math.max(320, Math.min(1200, width))));
  }

  // Drawn again when the reports are shown, at the width they are shown at.
  let drawnAt = null;
  document.addEventListener("linli:tab", (event) => {
    if (event.detail !== "reports" || !document.body.dataset.ready) return;
    if (drawnAt === chartWidth()) return;
    Promise.all([showCharts(), showReport()]).catch(
      (error) => beside($("#dashboard-year"), problem(error), "error"));
  });

  async function chart(figure, box, current) {
    const year = $("#dashboard-year").value;
    const query = new URLSearchParams({ year, figure, community_id: communityId,
                                        width: chartWidth(),
                                        lang: Linli.lang === "en" ? "en" : "zh" });
    const svg = await api("GET", "/web/charts/dashboard.svg?" + query, undefined,
                          { Accept: "image/svg+xml" });
    if (!current()) return;
    const parsed = new DOMParser().parseFromString(svg, "image/svg+xml").documentElement;
    box.replaceChildren(document.importNode(parsed, true));
  }

  async function showCharts() {
    drawnAt = chartWidth();
    const current = chartsAsked();
    await Promise.all([chart("points", $("#chart-points"), current),
                       chart("hours", $("#chart-hours"), current)]);
  }

  $("#dashboard-year").value = new Date().getFullYear();
  $("#dashboard-year").addEventListener("change", () => showCharts().catch(
    (error) => beside($("#dashboard-year"), problem(error), "error")));

  $("#merchants-more").addEventListener("click", () => C.showMerchants(communityId, true).catch(
    (error) => beside($("#merchants-more"), problem(error), "error")));

  try {
    const community = await api("GET", `/v1/communities/${communityId}`);
    $("#community").textContent = community.name;
    grids = (await api("GET", `/v1/communities/${communityId}/grids?limit=500`)).items;
    households = (await api("GET", `/v1/households?community_id=${communityId}&limit=500`)).items;
    document.querySelectorAll("select.grids").forEach((select) => select.append(
      ...grids.map((g) => el("option", { value: g.id }, g.name))));
    $("#member-household").append(
      ...households.map((h) => el("option", { value: h.id }, h.address)));
    people = (await api("GET", `/v1/members?community_id=${communityId}&limit=20`)).items;
    if (mayAct) {
      await Promise.all([findMembers(""), showRoster(""), showRules(), showPending(), showCharts()]);
      await Promise.all([showTeams(), showKeys(), showServices(), showReport(),
                         C.showPool(communityId), C.showMerchants(communityId)]);
      C.startTimebank(communityId, people);
      C.startRuleForm(communityId, showRules);
    } else {
      await Promise.all([showCharts(), showReport()]);
    }
    C.startReports(communityId, signedIn.role, people);
    if (["auditor", "admin"].includes(signedIn.role)) await showAccessLog();
    document.body.dataset.ready = "true";
  } catch (error) {
    C.fail(error);
  }
});
