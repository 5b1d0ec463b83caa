/* Merchant till: find the member by passbook number (typed or scanned), take points with a
   fresh Idempotency-Key per confirmation, refund, and today's statement. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, when, newKey, scanInto } = Linli;
  const signedIn = Linli.requireRole("merchant");
  if (!signedIn) return;
  const merchantId = signedIn.merchant_id || new URLSearchParams(location.search).get("merchant_id");
  if (!merchantId) { notice(t("need_role"), "error"); return; }
  let member = null;

  async function find() {
    member = null;
    const number = $("#passbook").value.trim();
    if (!number) return null;
    try {
      member = await api("GET", `/v1/passbooks/${encodeURIComponent(number)}`);
      $("#found").textContent = `${t("member")}：${member.name} · ${member.passbook_no}`;
    } catch (error) {
      $("#found").textContent = problem(error);
    }
    return member;
  }

  $("#find").addEventListener("click", find);
  // A USB scanner types the number and presses Enter: look the member up, then ask for points.
  $("#passbook").addEventListener("keydown", async (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    if (await find()) $("#points").focus();
  });
  $("#passbook").addEventListener("change", find);
  $("#scan").addEventListener("click", () => scanInto($("#passbook"), $("#camera")).catch(
    () => notice(t("scan_unsupported"), "warn")));

  // One key per confirmation: a retry of the same confirmation (a double tap, a lost answer)
  // reuses it, so the points move once; a new sale gets a new key.
  let pending = null;
  $("#redeem-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    if (!member || member.passbook_no !== $("#passbook").value.trim()) await find();
    if (!member) return;
    const body = { member_id: member.member_id, points: Number(form.points.value),
                   description: form.item.value.trim() };
    const signature = JSON.stringify(body);
    if (!pending || pending.signature !== signature) pending = { signature, key: newKey() };
    const button = $("#redeem");
    button.disabled = true;
    try {
      const done = await api("POST", "/v1/redemptions", body, { "Idempotency-Key": pending.key });
      pending = null;
      $("#redeem-result").replaceChildren(
        el("span", {}, `−${done.points} · ${t("redeemed_ok")} `),
        el("strong", { id: "balance-after" }, done.balance_after),
        el("br"), el("small", {}, `${t("redemption_id")} ${done.id}`));
      // Ready for the next customer: nobody is charged by mistake for the last one's passbook.
      form.reset();
      member = null;
      $("#found").textContent = "";
      notice(t("saved"));
      await statement();
    } catch (error) {
      if (error.status < 500 && error.slug !== "idempotency-key-in-flight") pending = null;
      $("#redeem-result").textContent = problem(error);
      notice(problem(error), "error");
    } finally {
      button.disabled = false;
    }
  });

  let refundPending = null;
  $("#refund-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const id = form.redemption_id.value.trim();
    const body = { points: Number(form.points.value) };
    const signature = id + JSON.stringify(body);
    if (!refundPending || refundPending.signature !== signature) {
      refundPending = { signature, key: newKey() };
    }
    try {
      const done = await api("POST", `/v1/redemptions/${encodeURIComponent(id)}/refunds`, body,
                             { "Idempotency-Key": refundPending.key });
      refundPending = null;
      $("#refund-result").textContent = `+${done.points} · ${t("refunded_ok")} ${done.balance_after}`;
      form.reset();
      await statement();
    } catch (error) {
      if (error.status < 500) refundPending = null;
      $("#refund-result").textContent = problem(error);
    }
  });

  async function statement() {
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    const query = new URLSearchParams({ from: start.toISOString() });
    const found = await api("GET", `/v1/merchants/${merchantId}/statement?${query}`);
    const totals = found.totals;
    $("#totals").textContent = `${t("totals")}：${t("redeemed")} ${totals.redeemed} · ` +
      `${t("refunded")} ${totals.refunded}`;
    $("#statement").replaceChildren(...(found.items.length ? found.items.map((line) =>
      el("li", {},
        el("span", { class: "what" },
          `${t("kind_" + line.kind)} ${line.points > 0 ? "+" : ""}${line.points} ${line.description}`),
        el("span", { class: "when" }, `${when(line.at)} · ${line.reference.split(":").pop()}`),
        line.kind === "redemption" ? el("button", {
          type: "button", class: "secondary", onclick: () => {
            $("#redemption-id").value = line.reference.split(":").pop();
            $("#refund-points").focus();
          } }, t("refund")) : null))
      : [el("li", { class: "empty" }, t("no_lines"))]));
  }

  try {
    const merchant = await api("GET", `/v1/merchants/${merchantId}`);
    $("#merchant").textContent = merchant.name;
    await statement();
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
