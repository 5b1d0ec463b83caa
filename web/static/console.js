/* Staff console, organised by task: the tab bar (登记, 积分, 审批, 服务单, 时间银行, 商户, 报表,
   设置), each role seeing only its own tabs; a resident picker that searches; the time bank's
   deposits, withdrawals and gifts; merchants' statements and settlements; downloads of the
   review, the yearly report and the books; certificates; verifying the books; the rulebook's
   form. Every action says its result or its problem beside the control that caused it. */
"use strict";

Linli.console = (() => {
  const { $, el, t } = Linli;
  const STAFF_TABS = ["register", "points", "approvals", "orders", "timebank", "merchants",
                      "reports", "settings"];
  const AUDITOR_TABS = ["reports"];

  const tabsFor = (role) => (role === "auditor" ? AUDITOR_TABS : STAFF_TABS);
  const fill = (text, values) => Object.entries(values).reduce(
    (out, [key, value]) => out.replaceAll(`{${key}}`, String(value)), text);

  /** Show the tab `name` (or say, in Chinese, that this role may not use it). */
  function showTab(role, name, focus = false) {
    const allowed = tabsFor(role);
    const chosen = name || (allowed.includes("points") ? "points" : allowed[0]);
    const ok = allowed.includes(chosen) && !!document.getElementById("tab-" + chosen);
    document.querySelectorAll(".panel").forEach((panel) => {
      panel.hidden = !ok || panel.dataset.tab !== chosen;
    });
    $("#tab-denied").hidden = ok;
    document.querySelectorAll("[data-tab-link]").forEach((link) => {
      if (link.dataset.tabLink === chosen) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    document.body.dataset.tab = ok ? chosen : "denied";
    document.dispatchEvent(new CustomEvent("linli:tab", { detail: ok ? chosen : null }));
    if (focus) {
      const heading = ok ? document.querySelector(`#tab-${chosen} h2`) : $("#tab-denied-title");
      if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
    }
  }

  /** The tab bar: links that switch the panel in place (and keep `?tab=` in the address). */
  function startTabs(role) {
    const go = (name) => {
      const url = new URL(location.href);
      url.searchParams.set("tab", name);
      history.pushState({ tab: name }, "", url);
      showTab(role, name, true);
    };
    document.querySelectorAll("[data-tab-link], [data-tab-link-go]").forEach((link) => {
      link.addEventListener("click", (event) => {
        event.preventDefault();
        go(link.dataset.tabLink || link.dataset.tabLinkGo);
      });
    });
    window.addEventListener("popstate", () => showTab(
      role, new URLSearchParams(location.search).get("tab")));
    document.querySelectorAll("[data-roles-only]").forEach((node) => {
      const roles = node.dataset.rolesOnly.split(" ");
      node.hidden = !(roles.includes(role) || role === "admin");
    });
    showTab(role, new URLSearchParams(location.search).get("tab"));
  }

  /** Say `message` in `box` (a result line beside an action), as done or failed. */
  function say(box, message, ok = true) {
    box.textContent = message;
    box.classList.add("result");
    box.classList.toggle("done", ok);
    box.classList.toggle("failed", !ok);
  }

  let serial = 0;

  /** A resident picker in `holder`: a search box (name or passbook number) and the residents
      found, to choose from. `initial` fills it before any search. */
  function picker(holder, communityId, initial = []) {
    serial += 1;
    const id = `${holder.dataset.picker || "person"}-${serial}`;
    const label = holder.dataset.label || t("resident");
    const search = el("input", { id: `${id}-q`, type: "search", maxlength: 50,
                                 autocomplete: "off", "data-picker-search": "" });
    const select = el("select", { id: `${id}-pick`, "data-picker-select": "" });
    const fillWith = (members) => {
      select.replaceChildren(...(members.length
        ? members.map((m) => el("option", { value: m.member_id, "data-name": m.name },
          `${m.name} · ${m.passbook_no}`))
        : [el("option", { value: "" }, t("c_no_match"))]));
    };
    fillWith(initial);
    let timer = null;
    search.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        const query = new URLSearchParams({ community_id: communityId,
                                            q: search.value.trim(), limit: 20 });
        try { fillWith((await Linli.api("GET", "/v1/members?" + query)).items); }
        catch (error) { Linli.sayBeside(search, Linli.problem(error), "error"); }
      }, 200);
    });
    holder.classList.add("picker");
    holder.replaceChildren(
      el("label", { for: search.id }, `${label} · ${t("c_search_person")}`), search,
      el("label", { for: select.id }, `${label} · ${t("c_pick_person")}`), select);
    return {
      select, search,
      value: () => select.value,
      name: () => (select.selectedOptions[0] || {}).dataset?.name || "",
    };
  }

  /** A file from the API (the session's token), saved under `name`. */
  async function download(path, name, accept) {
    const token = (Linli.session() || {}).token;
    const response = await fetch(path, { headers: {
      Authorization: "Bearer " + token, Accept: accept, "Accept-Language": Linli.lang } });
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new Linli.ApiError(response.status, problem);
    }
    const url = URL.createObjectURL(await response.blob());
    const link = el("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  /* --- the time bank: deposits, withdrawals, gifts ---------------------------------- */
  function startTimebank(communityId, members) {
    const pickers = {};
    document.querySelectorAll("#timebank-section .picker").forEach((holder) => {
      pickers[holder.dataset.picker] = picker(holder, communityId, members);
    });
    const paths = { deposit: "/v1/timebank/deposits", withdrawal: "/v1/timebank/withdrawals",
                    transfer: "/v1/timebank/transfers" };
    const said = { deposit: "c_deposited", withdrawal: "c_withdrawn", transfer: "c_transferred" };
    document.querySelectorAll("#timebank-section form.tb-form").forEach((form) => {
      const result = el("p", { class: "result", role: "status", "aria-live": "polite",
                               id: `${form.id}-result` });
      form.append(result);
      form.addEventListener("submit", async (event) => {
        event.preventDefault();
        const kind = form.dataset.kind;
        const body = { minutes: Number(form.minutes.value) };
        for (const picked of form.querySelectorAll(".picker")) {
          const value = pickers[picked.dataset.picker].value();
          if (!value) { say(result, t("c_need_person"), false); return; }
          body[picked.dataset.picker] = value;
        }
        if (form.service_type) body.service_type = form.service_type.value.trim();
        try {
          const done = await Linli.api("POST", paths[kind], body);
          say(result, fill(t(said[kind]), { minutes: Linli.duration(done.minutes),
                                            balance: Linli.duration(done.balance_after) }));
          await showPool(communityId);
        } catch (error) { say(result, Linli.problem(error), false); }
      });
    });
  }

  async function showPool(communityId) {
    const bank = await Linli.api("GET", `/v1/communities/${communityId}/timebank`);
    $("#timebank-pool").textContent = fill(t("c_pool"),
      { minutes: Linli.duration(bank.pool_minutes) });
  }

  /* --- merchants: statements and settlements ----------------------------------------- */
  let merchantsCursor = null;

  async function merchantRow(merchant) {
    const statement = await Linli.api("GET", `/v1/merchants/${merchant.id}/statement?limit=1`);
    const totals = statement.totals;
    const figures = el("span", { class: "when" }, [
      fill(t("c_redeemed"), { points: totals.redeemed }),
      fill(t("c_refunded"), { points: totals.refunded }),
      fill(t("c_settled"), { points: totals.settled }),
      fill(t("c_unsettled"), { points: totals.unsettled })].join(" · "));
    const result = el("p", { class: "result", role: "status", "aria-live": "polite" });
    const settle = el("button", { type: "button", "data-action": "settle",
                                  disabled: totals.unsettled <= 0 }, t("c_settle"));
    settle.addEventListener("click", async () => {
      try {
        const done = await Linli.api("POST", `/v1/merchants/${merchant.id}/settlements`, {});
        say(result, fill(t("c_settled"), { points: done.points }));
        settle.disabled = true;
      } catch (error) { say(result, Linli.problem(error), false); }
    });
    const csv = el("button", { type: "button", class: "secondary", "data-action": "statement" },
      t("c_statement_csv"));
    csv.addEventListener("click", async () => {
      const name = `${merchant.name}-statement.csv`;
      try {
        await download(`/v1/merchants/${merchant.id}/statement?format=csv`, name, "text/csv");
        say(result, fill(t("c_downloaded"), { name }));
      } catch (error) { say(result, Linli.problem(error), false); }
    });
    return el("li", { "data-merchant": merchant.id },
      el("span", { class: "what" }, merchant.name), figures,
      el("span", { class: "row" }, settle, csv), result);
  }

  async function showMerchants(communityId, more = false) {
    const query = new URLSearchParams({ community_id: communityId, limit: 20 });
    if (more && merchantsCursor) query.set("cursor", merchantsCursor);
    const page = await Linli.api("GET", "/v1/merchants?" + query);
    merchantsCursor = page.next_cursor;
    $("#merchants-more").hidden = !merchantsCursor;
    const rows = await Promise.all(page.items.map(merchantRow));
    if (more) $("#merchants").append(...rows);
    else $("#merchants").replaceChildren(...(rows.length ? rows
      : [el("li", { class: "empty" }, t("c_no_merchants"))]));
  }

  /* --- downloads, verifying, certificates --------------------------------------------- */
  function thisQuarter() {
    const now = new Date();
    return `${now.getFullYear()}-Q${Math.floor(now.getMonth() / 3) + 1}`;
  }

  function startReports(communityId, role, members) {
    $("#review-quarter").value = thisQuarter();
    // The whole ledger is for an auditor of every community (or an admin) only.
    $("[data-download=ledger-csv]").hidden = !!(Linli.session() || {}).community_id;
    const result = $("#downloads-result");
    const files = {
      "review-csv": () => [`/v1/communities/${communityId}/reviews/${$("#review-quarter").value.trim()}?format=csv`,
                           `review-${$("#review-quarter").value.trim()}.csv`, "text/csv"],
      "review-xlsx": () => [`/v1/communities/${communityId}/reviews/${$("#review-quarter").value.trim()}?format=xlsx`,
                            `review-${$("#review-quarter").value.trim()}.xlsx`,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
      "dashboard-csv": () => [`/v1/communities/${communityId}/dashboard?year=${$("#dashboard-year").value}&format=csv`,
                              `dashboard-${$("#dashboard-year").value}.csv`, "text/csv"],
      "ledger-csv": () => ["/v1/exports/ledger", "ledger.csv", "text/csv"],
    };
    document.querySelectorAll("[data-download]").forEach((button) => {
      button.addEventListener("click", async () => {
        const [path, name, accept] = files[button.dataset.download]();
        try {
          await download(path, name, accept);
          say(result, fill(t("c_downloaded"), { name }));
        } catch (error) { say(result, Linli.problem(error), false); }
      });
    });
    $("#verify-books").addEventListener("click", async () => {
      try {
        const answer = await Linli.api("GET", "/v1/audit/verify");
        if (answer.ok) say(result, fill(t("c_verify_ok"), { n: answer.events_checked }));
        else say(result, fill(t("c_verify_bad"), { n: answer.problems.length,
          first: JSON.stringify(answer.problems[0] || "") }), false);
      } catch (error) { say(result, Linli.problem(error), false); }
    });
    const who = picker($("#certificates-section .picker"), communityId, members);
    $("#print-certificate").addEventListener("click", async () => {
      const box = $("#certificate-result");
      if (!who.value()) { say(box, t("c_need_person"), false); return; }
      try {
        await Linli.openPaper(`/v1/members/${who.value()}/certificate`);
        say(box, t("c_certificate_opened"));
      } catch (error) { say(box, Linli.problem(error), false); }
    });
  }

  /* --- the rulebook's form ---------------------------------------------------------- */
  function startRuleForm(communityId, reload) {
    const form = $("#rule-form");
    const result = el("p", { class: "result", id: "rule-result", role: "status",
                             "aria-live": "polite" });
    form.append(result);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { name: form.name.value.trim(), points: Number(form.points.value),
                     unit: form.unit.value, requires_approval: form.requires_approval.checked };
      if (form.daily_cap.value) body.daily_cap = Number(form.daily_cap.value);
      if (form.monthly_cap.value) body.monthly_cap = Number(form.monthly_cap.value);
      const code = encodeURIComponent(form.code.value.trim());
      try {
        const rule = await Linli.api("PUT", `/v1/communities/${communityId}/rules/${code}`, body);
        say(result, fill(t("c_rule_saved"), { name: rule.name, version: rule.version }));
        await reload();
      } catch (error) { say(result, Linli.problem(error), false); }
    });
  }

  /** Fill the rule form with `rule`, to change it. */
  function editRule(rule) {
    const form = $("#rule-form");
    form.code.value = rule.code;
    form.name.value = rule.name;
    form.points.value = rule.points;
    form.unit.value = rule.unit;
    form.daily_cap.value = rule.daily_cap || "";
    form.monthly_cap.value = rule.monthly_cap || "";
    form.requires_approval.checked = !!rule.requires_approval;
    form.name.focus();
  }

  /* The control the user last touched: where a problem with no row of its own is said. */
  let touched = null;
  for (const kind of ["click", "change", "submit"]) {
    document.addEventListener(kind, (event) => {
      const control = event.target.closest?.("button, a, input, select, form");
      if (control && !control.closest("dialog")) touched = control;
    }, true);
  }

  /** Say `error`'s problem beside the control the user last touched (the page's notice when
      there is none, as while the page loads). */
  function fail(error) {
    const problem = error instanceof Error ? Linli.problem(error) : String(error);
    if (touched && touched.isConnected && touched.getClientRects().length) {
      Linli.sayBeside(touched, problem, "error");
    } else Linli.notice(problem, "error");
  }

  return { fail, startTabs, showTab, say, fill, picker, download, startTimebank, showPool,
           showMerchants, startReports, startRuleForm, editRule, tabsFor };
})();
