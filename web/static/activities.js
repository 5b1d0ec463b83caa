/* Staff console, 活动签到: create an activity (its rule paid by the hour, minutes to the
   time bank) and list the community's activities, each opening its check-in page. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, when } = Linli;
  const signedIn = Linli.session();
  if (!signedIn || !["staff", "admin"].includes(signedIn.role)) return;
  const communityId = signedIn.community_id ||
    new URLSearchParams(location.search).get("community_id");
  if (!communityId) return;

  function row(activity) {
    const status = activity.status === "closed" ? t("activity_closed") : t("activity_open");
    return el("li", { "data-activity": activity.id },
      el("span", { class: "what" }, `${activity.title} · ${status}`),
      el("span", { class: "when" }, `${when(activity.starts_at)} – ${when(activity.ends_at)}`,
        activity.place ? ` · ${activity.place}` : ""),
      el("a", { class: "button secondary", href: `/web/activity?id=${activity.id}` },
        t("activity_open_qr")));
  }

  async function showActivities() {
    const found = await api("GET", `/v1/activities?community_id=${communityId}`);
    $("#activities").replaceChildren(...found.items.map(row));
  }

  async function showHourRules() {
    const rules = (await api("GET", `/v1/communities/${communityId}/rules`)).items;
    $("#activity-rule").append(...rules.filter((r) => r.unit === "hour" && !r.retired)
      .map((r) => el("option", { value: r.code }, r.name)));
  }

  $("#activity-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      community_id: communityId,
      title: $("#activity-title").value.trim(),
      place: $("#activity-place").value.trim(),
      starts_at: new Date($("#activity-starts").value).toISOString(),
      ends_at: new Date($("#activity-ends").value).toISOString(),
      timebank: $("#activity-timebank").checked,
    };
    if ($("#activity-rule").value) body.rule_code = $("#activity-rule").value;
    try {
      const made = await api("POST", "/v1/activities", body);
      Linli.sayBeside($("#activity-create"), t("activity_created"));
      await showActivities();
      location.href = `/web/activity?id=${made.id}`;
    } catch (error) {
      Linli.sayBeside($("#activity-create"), problem(error), "error");
    }
  });

  try {
    await Promise.all([showActivities(), showHourRules()]);
  } catch (error) {
    notice(problem(error), "error");
  }
});
