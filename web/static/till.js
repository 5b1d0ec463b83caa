/* Merchant till: take points by the resident's payment code (付款码, scanned or typed), or by
   passbook number and PIN (密码) for a resident without a phone, or, where the community lets a
   till name the member, by passbook number alone; a fresh Idempotency-Key per confirmation;
   refunds; today's statement. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, when, newKey, scanInto } = Linli;
  const signedIn = Linli.requireRole("merchant");
  if (!signedIn) return;
  const merchantId = signedIn.merchant_id || new URLSearchParams(location.search).get("merchant_id");
  if (!merchantId) { notice(t("need_role"), "error"); return; }
  let member = null;

  const codeDigits = () => $("#code").value.replace(/[\s-]/g, "");
  // A payment code is 18 digits; a passbook number is the community's four digits, a hyphen
  // and six more (0001-000042), as a member card's QR code holds it.
  const looksLikePassbook = (text) => /^\d{4}-\d{6}$/.test(text.trim());

  function say(message, kind = "error") {
    $("#redeem-result").textContent = message;
    notice(message, kind);
  }

  async function find() {
    member = null;
    const number = $("#passbook").value.trim();
    if (!number) return null;
    try {
      member = await api("GET", `/v1/passbooks/${encodeURIComponent(number)}`);
      // Where the community wants the resident's consent, the look-up names no member: the
      // till then needs the resident's PIN or payment code.
      const next = member.member_id ? "" : ` · ${t("found_needs_pin")}`;
      $("#found").textContent = `${t("member")}：${member.name} · ${member.passbook_no}${next}`;
    } catch (error) {
      member = null;
      $("#found").textContent = problem(error);
    }
    return member;
  }

  // One way of naming the resident at a time: typing in one clears the other.
  $("#code").addEventListener("input", () => {
    if (!$("#code").value) return;
    $("#passbook").value = "";
    $("#pin").value = "";
    $("#found").textContent = "";
    member = null;
  });
  $("#passbook").addEventListener("input", () => { $("#code").value = ""; });

  // What was scanned or typed in the code field: a code goes on to the points; a passbook
  // number (a member card's QR code) moves to the passbook field and is looked up.
  async function codeEntered() {
    const text = $("#code").value.trim();
    if (!text) return;
    if (!looksLikePassbook(text)) {
      $("#points").focus();
      return;
    }
    $("#code").value = "";
    $("#passbook").value = text;
    await passbookEntered();
  }

  async function passbookEntered() {
    const found = await find();
    if (!found) return;
    if (found.member_id && !$("#pin").value) $("#points").focus(); else $("#pin").focus();
  }

  $("#find").addEventListener("click", passbookEntered);
  // A USB scanner types the code or number and presses Enter.
  $("#code").addEventListener("keydown", async (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    await codeEntered();
  });
  $("#code").addEventListener("change", () => {
    if (looksLikePassbook($("#code").value)) codeEntered();
  });
  $("#passbook").addEventListener("keydown", async (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    await passbookEntered();
  });
  $("#passbook").addEventListener("change", find);
  if (Linli.canScan()) {
    $("#scan").hidden = false;
    $("#scan").addEventListener("click", () => scanInto($("#code"), $("#camera"))
      .then(codeEntered)
      .catch(() => notice(t("scan_unsupported"), "warn")));
  }

  /** How the redemption names the resident, or null (having said what is missing). */
  async function whose() {
    const digits = codeDigits();
    if (digits) {
      if (!/^\d{18}$/.test(digits)) { say(t("code_digits_wrong")); $("#code").focus(); return null; }
      return { payment_code: digits };
    }
    const number = $("#passbook").value.trim();
    const pin = $("#pin").value.trim();
    if (number && pin) {
      if (!/^\d{6}$/.test(pin)) { say(t("pin_digits_wrong")); $("#pin").focus(); return null; }
      return { passbook_no: number, pin };
    }
    if (number) {
      if (!member || member.passbook_no !== number) await find();
      if (!member) return null;
      if (member.member_id) return { member_id: member.member_id };
    }
    say(t("need_code_or_pin"));
    (number ? $("#pin") : $("#code")).focus();
    return null;
  }

  function ready() {
    $("#redeem-form").reset();
    member = null;
    $("#found").textContent = "";
  }

  // One key per confirmation: a retry of the same confirmation (a double tap, a lost answer)
  // reuses it, so the points move once; a new sale gets a new key.
  let pending = null;
  $("#redeem-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = $("#redeem");
    button.disabled = true;
    try {
      const who = await whose();
      if (!who) return;
      const body = { ...who, points: Number(form.points.value),
                     description: form.item.value.trim() };
      const signature = JSON.stringify(body);
      if (!pending || pending.signature !== signature) pending = { signature, key: newKey() };
      try {
        const done = await api("POST", "/v1/redemptions", body, { "Idempotency-Key": pending.key });
        pending = null;
        $("#redeem-result").replaceChildren(
          el("span", {}, `−${done.points} · ${t("redeemed_ok")} `),
          el("strong", { id: "balance-after" }, done.balance_after),
          el("br"), el("small", {}, `${t("redemption_id")} ${done.id}`));
        // Ready for the next customer: nobody is charged by mistake for the last one's code.
        ready();
        notice(t("saved"));
        $("#code").focus();
        await statement();
      } catch (error) {
        if (error.status < 500 && error.slug !== "idempotency-key-in-flight") pending = null;
        $("#redeem-result").replaceChildren(el("span", { class: "problem" }, problem(error)));
        notice(problem(error), "error");
        // A code that will not work again, or a wrong PIN: clear it for the next try. A refusal
        // such as too few points leaves the code usable.
        if (error.slug === "payment-code-used" || error.slug === "payment-code-invalid") {
          $("#code").value = "";
          $("#code").focus();
        } else if (error.slug === "pin-invalid" || error.slug === "pin-locked") {
          $("#pin").value = "";
          $("#pin").focus();
        }
      }
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
