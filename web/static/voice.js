/* Care, wishes and voice on the pages that have their sections:
   - the resident's page: whom I look after (as an observer) with a visit form each; post a
     wish, my wishes, neighbours' open wishes to claim; post a proposal or complaint, my
     proposals with their replies, and the community's list (民生清单);
   - the staff console: residents overdue for a visit (most overdue first), wishes to confirm,
     proposals to list, move on, answer and reward, and the list's export;
   - the hall screen: open wishes and the list, every name masked. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, el, t, api, problem, day } = Linli;
  const signedIn = Linli.session();
  if (!signedIn) return;
  const params = new URLSearchParams(location.search);
  const community = params.get("community_id") || signedIn.community_id;
  const scoped = (path, extra = {}) => {
    const query = new URLSearchParams(extra);
    if (community) query.set("community_id", community);
    return `${path}?${query}`;
  };
  const empty = () => el("li", { class: "empty" }, t("wish_none"));
  const say = (target, message, kind) => Linli.sayBeside(target, message, kind);
  const STEPS = { submitted: ["listed", "declined"], listed: ["in_progress", "declined"],
                  in_progress: ["done", "declined"], done: [], declined: [] };

  /* --- the resident's page ------------------------------------------------------------ */
  async function careMine() {
    let items;
    try { items = (await api("GET", "/v1/care/roster")).items; } catch { return; }
    $("#care-section").hidden = items.length === 0;
    $("#care-mine").replaceChildren(...items.map((c) => {
      const note = el("textarea", { id: `visit-${c.member_id}`, maxlength: 500, rows: 2 });
      return el("li", { "data-care": c.member_id },
        el("span", { class: "what" }, `${c.name} · ${c.categories.join("、")}`),
        el("span", { class: "when" }, `${t("care_due")} ${day(c.due_at)}` +
          (c.overdue_days ? ` · ${t("care_overdue_days").replace("{n}", c.overdue_days)}` : "") +
          ` · ${t("care_last")} ${c.last_visit_at ? day(c.last_visit_at) : t("care_never")}`),
        el("label", { for: note.id }, t("care_note")), note,
        el("button", { type: "button", "data-action": "visit", onclick: async (event) => {
          const button = event.currentTarget;
          try {
            await api("POST", `/v1/members/${c.member_id}/visits`, { note: note.value.trim() });
            await careMine();
            say($(`[data-care="${c.member_id}"] .what`), t("care_logged"));
          } catch (error) { say(button, problem(error), "error"); }
        } }, t("care_log")));
    }));
  }

  async function wishesOfResident(memberId) {
    const items = (await api("GET", "/v1/wishes")).items;
    const mine = items.filter((w) => w.member_id === memberId);
    $("#my-wishes").replaceChildren(...(mine.length ? mine.map((w) => el("li", { "data-wish": w.id },
      el("span", { class: "what" }, w.text),
      el("span", { class: "status" }, t("wish_" + w.status) +
        (w.claimer_name ? ` · ${t("wish_by")} ${w.claimer_name}` : "")))) : [empty()]));
    const others = items.filter((w) => w.member_id !== memberId && w.status !== "fulfilled");
    $("#open-wishes").replaceChildren(...(others.length ? others.map((w) => {
      const row = el("li", { "data-wish": w.id }, el("span", { class: "what" }, `${w.name}：${w.text}`));
      if (w.status === "open") {
        row.append(el("button", { type: "button", "data-action": "claim", onclick: async (event) => {
          const button = event.currentTarget;
          try {
            await api("POST", `/v1/wishes/${w.id}/claim`, {});
            await wishesOfResident(memberId);
            say($(`#open-wishes [data-wish="${w.id}"] .what`), t("wish_claimed_ok"));
          } catch (error) { say(button, problem(error), "error"); }
        } }, t("wish_claim")));
      } else {
        row.append(el("span", { class: "status" }, t("wish_claimed") +
          (w.claimer_member_id === memberId ? ` · ${t("wish_claimed_ok")}` : "")));
      }
      return row;
    }) : [empty()]));
  }

  function proposalRow(p, editable) {
    const row = el("li", { "data-proposal": p.id, "data-status": p.status },
      el("span", { class: "what" }, `${t("proposal_" + p.kind)} · ${p.text}`),
      el("span", { class: "status" }, `${t("proposal_" + p.status)}` +
        (p.priority ? ` · ${t("proposal_priority")} ${p.priority}` : "") + ` · ${p.name}`),
      p.reply ? el("span", { class: "note reply" }, `${t("proposal_reply")}：${p.reply}`) : null);
    if (editable) row.append(proposalForm(p));
    return row;
  }

  async function proposalsOfResident(memberId) {
    const items = (await api("GET", "/v1/proposals")).items;
    const mine = items.filter((p) => p.member_id === memberId);
    $("#my-proposals").replaceChildren(...(mine.length ? mine.map((p) => proposalRow(p)) : [empty()]));
    const listed = items.filter((p) => ["listed", "in_progress", "done"].includes(p.status));
    $("#public-proposals").replaceChildren(...(listed.length ? listed.map((p) => proposalRow(p)) : [empty()]));
  }

  function resident() {
    const memberId = signedIn.member_id || params.get("member_id");
    if (!memberId || !$("#wish-form")) return;
    $("#wish-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.target.querySelector("button[type=submit]");
      try {
        await api("POST", "/v1/wishes", { member_id: memberId, text: $("#wish-text").value });
        event.target.reset();
        await wishesOfResident(memberId);
        say(button, t("wish_posted"));
      } catch (error) { say(button, problem(error), "error"); }
    });
    $("#proposal-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.target.querySelector("button[type=submit]");
      const body = { community_id: null, text: $("#proposal-text").value,
                     kind: $("#proposal-kind").value };
      try {
        body.community_id = community || (await api("GET", `/v1/members/${memberId}`)).community_id;
        if (signedIn.role !== "member") body.member_id = memberId;
        await api("POST", "/v1/proposals", body);
        event.target.reset();
        await proposalsOfResident(memberId);
        say(button, t("proposal_posted"));
      } catch (error) { say(button, problem(error), "error"); }
    });
    careMine();
    wishesOfResident(memberId).catch(() => {});
    proposalsOfResident(memberId).catch(() => {});
  }

  /* --- the staff console ------------------------------------------------------------- */
  async function overdue() {
    const items = (await api("GET", scoped("/v1/care/overdue"))).items;
    $("#care-overdue").replaceChildren(...(items.length ? items.map((c) => el("li", { "data-care": c.member_id },
      el("span", { class: "what" }, `${c.name} · ${c.categories.join("、")}`),
      el("span", { class: "when" }, `${t("care_overdue_days").replace("{n}", c.overdue_days)} · ` +
        `${t("care_last")} ${c.last_visit_at ? day(c.last_visit_at) : t("care_never")} · ` +
        `${t("care_observer")} ${c.observer_name}`))) : [el("li", { class: "empty" }, t("care_none"))]));
  }

  async function staffWishes() {
    const items = (await api("GET", scoped("/v1/wishes"))).items.filter((w) => w.status !== "fulfilled");
    $("#staff-wishes").replaceChildren(...(items.length ? items.map((w) => {
      const row = el("li", { "data-wish": w.id },
        el("span", { class: "what" }, `${w.name}：${w.text}`),
        el("span", { class: "status" }, t("wish_" + w.status) +
          (w.claimer_name ? ` · ${t("wish_by")} ${w.claimer_name}` : "")));
      if (w.status === "claimed") {
        row.append(el("button", { type: "button", "data-action": "fulfil", onclick: async (event) => {
          const button = event.currentTarget;
          try {
            await api("POST", `/v1/wishes/${w.id}/fulfil`);
            await staffWishes();
            say($("#staff-wishes"), t("wish_fulfilled_ok"));
          } catch (error) { say(button, problem(error), "error"); }
        } }, t("wish_fulfil")));
      }
      return row;
    }) : [empty()]));
  }

  function proposalForm(p) {
    const status = el("select", { "data-field": "status", "aria-label": t("proposal_status_pick") },
      el("option", { value: "" }, t("proposal_" + p.status)),
      ...STEPS[p.status].map((s) => el("option", { value: s }, t("proposal_" + s))));
    const priority = el("select", { "data-field": "priority", "aria-label": t("proposal_priority") },
      ...[1, 2, 3].map((n) => el("option", { value: n }, `${t("proposal_priority")} ${n}`)));
    priority.value = String(p.priority || 2);
    const reply = el("input", { "data-field": "reply", value: p.reply, maxlength: 500,
                                "aria-label": t("proposal_reply"), placeholder: t("proposal_reply") });
    const send = async (button, body) => {
      try {
        await api("PATCH", `/v1/proposals/${p.id}`, body);
        await staffProposals();
        say($(`#staff-proposals [data-proposal="${p.id}"] .what`), t("proposal_saved"));
      } catch (error) { say(button, problem(error), "error"); }
    };
    const form = el("span", { class: "row" }, status, priority, reply,
      el("button", { type: "button", "data-action": "save", onclick: (event) => {
        const body = { priority: Number(priority.value), reply: reply.value.trim() };
        if (status.value) body.status = status.value;
        if (!STEPS[p.status].length) return;
        send(event.currentTarget, body);
      } }, t("proposal_save")));
    if (["listed", "in_progress", "done"].includes(p.status) && !p.points) {
      form.append(el("button", { type: "button", class: "secondary", "data-action": "award",
        onclick: (event) => send(event.currentTarget, { award_rule_code: "PROPOSAL" }) },
        t("proposal_award")));
    }
    return form;
  }

  async function staffProposals() {
    const items = (await api("GET", scoped("/v1/proposals"))).items;
    $("#staff-proposals").replaceChildren(...(items.length ? items.map((p) =>
      proposalRow(p, STEPS[p.status].length > 0 || !p.points)) : [empty()]));
  }

  async function exportProposals(event) {
    const button = event.currentTarget;
    try {
      const response = await fetch(scoped("/v1/proposals/export", { format: "xlsx" }), {
        headers: { Authorization: "Bearer " + signedIn.token } });
      if (!response.ok) throw new Linli.ApiError(response.status, await response.json());
      const link = el("a", { href: URL.createObjectURL(await response.blob()),
                             download: "民生清单.xlsx" });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) { say(button, problem(error), "error"); }
  }

  async function showBoard(building) {
    const board = (await api("GET", scoped("/v1/leaderboards", { building_id: building.id }))).items;
    $("#building-board-title").hidden = false;
    $("#building-board-title").textContent = `${building.name} · ${t("building_board")}`;
    $("#building-board").replaceChildren(...(board.length ? board.map((s) =>
      el("li", { "data-subject": s.subject_id }, `${s.rank}. ${s.name} · ${s.earned}`)) : [empty()]));
  }

  async function buildings() {
    if (!community) return;
    const grids = (await api("GET", `/v1/communities/${community}/grids?limit=500`)).items;
    $("#building-grid").replaceChildren(...grids.map((g) => el("option", { value: g.id }, g.name)));
    const items = (await api("GET", `/v1/communities/${community}/buildings`)).items;
    $("#buildings").replaceChildren(...(items.length ? items.map((b) => el("li", { "data-building": b.id },
      el("span", { class: "what" }, b.name +
        (b.leader_name ? ` · ${t("building_leader")} ${b.leader_name}` : "")),
      el("button", { type: "button", class: "secondary", "data-action": "board",
                     onclick: (event) => showBoard(b).catch((error) =>
                       say(event.currentTarget, problem(error), "error")) }, t("building_board")),
      el("a", { href: `/web/screen?community_id=${community}&building_id=${b.id}` },
        t("building_screen")))) : [empty()]));
  }

  function staff() {
    if (!["staff", "admin"].includes(signedIn.role) || !$("#care-overdue")) return;
    $("#building-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = event.target.querySelector("button[type=submit]");
      try {
        await api("POST", `/v1/communities/${community}/buildings`,
                  { name: $("#building-name").value.trim(), grid_id: $("#building-grid").value });
        event.target.reset();
        await buildings();
        say(button, t("building_added"));
      } catch (error) { say(button, problem(error), "error"); }
    });
    buildings().catch(() => {});
    $("#proposal-export").addEventListener("click", exportProposals);
    overdue().catch(() => {});
    staffWishes().catch(() => {});
    staffProposals().catch(() => {});
  }

  /* --- the hall screen --------------------------------------------------------------- */
  async function screen() {
    try {
      const wishes = (await api("GET", scoped("/v1/wishes", { status: "open", public: "true",
                                                              limit: 10 }))).items;
      $("#screen-wishes").replaceChildren(...wishes.map((w) =>
        el("li", { "data-wish": w.id }, el("span", { class: "name" }, w.name),
          el("span", { class: "what" }, w.text))));
      const listed = (await api("GET", scoped("/v1/proposals", { public: "true", limit: 10 }))).items;
      $("#screen-proposals").replaceChildren(...listed.map((p) =>
        el("li", { "data-proposal": p.id }, el("span", { class: "what" }, p.text),
          el("span", { class: "status" }, t("proposal_" + p.status)))));
    } catch { /* a till's screen has no wishes to show */ }
  }

  if (document.body.classList.contains("page-volunteer")) resident();
  if (document.body.classList.contains("page-staff")) staff();
  if (document.body.classList.contains("page-screen") && $("#screen-wishes")) {
    screen();
    setInterval(screen, 30_000);
  }
});
