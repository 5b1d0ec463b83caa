/* An activity's check-in page for staff: the title, time and place with a large QR code of
   the check-in link to project or print; the attendees, refreshed every few seconds; check-in
   and check-out by hand; closing, with what it gave. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, when, duration } = Linli;
  const signedIn = Linli.requireRole("staff");
  if (!signedIn) return;
  const activityId = new URLSearchParams(location.search).get("id");
  if (!activityId) { notice(t("not_found"), "error"); return; }
  const path = `/v1/activities/${encodeURIComponent(activityId)}`;
  let activity = null;
  let timer = null;
  $("#print").addEventListener("click", () => window.print());

  async function checkOut(memberId) {
    try {
      await api("POST", `${path}/check-outs`, { member_id: memberId });
      notice(t("checked_out"));
      await refresh();
    } catch (error) {
      notice(problem(error), "error");
    }
  }

  function attendeeRow(a) {
    const out = a.checked_out_at
      ? `${t("checked_out_at")} ${when(a.checked_out_at)} · ${duration(a.minutes || 0)}`
      : t("not_checked_out");
    return el("li", { "data-member": a.member_id },
      el("span", { class: "what" }, a.name),
      el("span", { class: "when" }, `${t("checked_in_at")} ${when(a.checked_in_at)} · ${out}`),
      !a.checked_out_at && activity.status === "open"
        ? el("button", { type: "button", class: "secondary",
                         onclick: () => checkOut(a.member_id) }, t("check_out"))
        : null);
  }

  function showOutcome(o) {
    $("#close-result").textContent = t("closed_result")
      .replace("{attendees}", o.attendees).replace("{awards}", o.awards)
      .replace("{points}", o.points_awarded).replace("{minutes}", o.minutes_deposited)
      .replace("{unfinished}", o.unfinished.length);
  }

  async function refresh() {
    activity = await api("GET", path);
    $("#activity-title").textContent = activity.title;
    $("#activity-when").textContent = `${when(activity.starts_at)} – ${when(activity.ends_at)}`;
    $("#activity-place").textContent = activity.place;
    const closed = activity.status === "closed";
    $("#activity-status").textContent = closed ? t("activity_closed") : t("activity_open");
    $("#close-activity").disabled = closed;
    $("#attendees").replaceChildren(...(activity.attendees.length
      ? activity.attendees.map(attendeeRow) : [el("li", {}, t("no_attendees"))]));
    if (closed && activity.outcome) showOutcome(activity.outcome);
    if (closed) clearInterval(timer);
  }

  async function showQr() {
    const link = `${location.origin}/web/checkin?activity=${activity.id}` +
      `&code=${encodeURIComponent(activity.check_in_code)}`;
    const image = $("#activity-qr");
    image.src = await Linli.secretQr(link);
    image.hidden = false;
  }

  async function findMembers(text) {
    const query = new URLSearchParams({ community_id: activity.community_id, q: text, limit: 8 });
    const found = (await api("GET", "/v1/members?" + query)).items;
    $("#hand-choices").replaceChildren(...found.map((m) => el("button", {
      type: "button", class: "choice", "data-member": m.member_id,
      onclick: async () => {
        try {
          await api("POST", `${path}/check-ins`, { member_id: m.member_id });
          notice(`${m.name} · ${t("checked_in")}`);
          await refresh();
        } catch (error) {
          notice(problem(error), "error");
        }
      },
    }, m.name, el("small", {}, m.passbook_no))));
  }

  let searchTimer = null;
  $("#hand-search").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => findMembers(event.target.value.trim()).catch(
      (error) => notice(problem(error), "error")), 200);
  });

  $("#close-activity").addEventListener("click", async () => {
    try {
      const outcome = await api("POST", `${path}/close`);
      await refresh();
      showOutcome(outcome);  // once the page says it is closed
    } catch (error) {
      notice(problem(error), "error");
    }
  });

  try {
    await refresh();
    await showQr();
    if (activity.status === "open") {
      timer = setInterval(() => refresh().catch(() => {}), 5000);
    }
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
