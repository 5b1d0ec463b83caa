/* The resident's check-in: the link of an activity's QR code, opened on the phone signed in
   as the member; one tap checks in, and later one tap checks out. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, t, api, notice, problem, when } = Linli;
  const signedIn = Linli.requireRole("member");
  if (!signedIn) return;
  const params = new URLSearchParams(location.search);
  const activityId = params.get("activity");
  const code = params.get("code");
  if (!activityId || !code) { notice(t("problem_check-in-code-invalid"), "error"); return; }
  const path = `/v1/activities/${encodeURIComponent(activityId)}`;

  function show(activity) {
    $("#activity-title").textContent = activity.title;
    $("#activity-when").textContent = `${when(activity.starts_at)} – ${when(activity.ends_at)}`;
    $("#activity-place").textContent = activity.place;
    const mine = activity.attendees[0];
    const open = activity.status === "open";
    $("#check-in").hidden = !open || !!mine;
    $("#check-out").hidden = !open || !mine || !!mine.checked_out_at;
    if (!open) $("#checkin-result").textContent = t("activity_closed");
  }

  async function act(way, done) {
    try {
      await api("POST", `${path}/${way}`, { code });
      show(await api("GET", path));
      $("#checkin-result").textContent = t(done);  // once the buttons say what is next
    } catch (error) {
      notice(problem(error), "error");
    }
  }

  $("#check-in").addEventListener("click", () => act("check-ins", "checked_in"));
  $("#check-out").addEventListener("click", () => act("check-outs", "checked_out"));

  try {
    show(await api("GET", path));
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
