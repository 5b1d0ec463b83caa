/* Merchant till: take points by the resident's payment code (付款码, scanned or typed), or by
   passbook number and PIN (密码) for a resident without a phone, or, where the community lets a
   till name the member, by passbook number alone; a fresh Idempotency-Key per confirmation;
   refunds; today's statement. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, el, t, api, notice, problem, when, newKey, scanInto } = Linli;
  const signedIn = Linli.pageFor("merchant");
  if (!signedIn) return;
  const merchantId = signedIn.merchant_id || new URLSearchParams(location.search).get("merchant_id");
  if (!merchantId) { notice(t("need_role"), "error"); return; }
  let member = null;

  const codeDigits = () => $("#code").value.replace(/[\s-]/g, "");
  // A payment code is 18 digits; a passbook number is the community's four digits, a hyphen
  // and six more (0001-000042), as a member card's QR code holds it.
  const looksLikePassbook = (text) => /^\d{4}-\d{6}$/.test(text.trim());

  function say(message) {
    $("#redeem-result").className = "result big-result failed";
    $("#redeem-result").replaceChildren(el("span", { class: "problem" }, message));
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

  /* A sale in two steps: 「下一步：核对」 looks the resident up (POST /v1/till/holder: the
     masked name and available points; the code stays usable), then 「确认扣分」 takes the
     points. One Idempotency-Key per confirmation: a retry of the same confirmation (a double
     tap, a lost answer) reuses it, so the points move once; a new sale gets a new key. */
  const REPEAT_MS = 60_000;
  const recent = [];  // { passbook_no, points, at } of this till's sales in the last minute
  let pending = null;
  let sale = null;    // { body, holder } awaiting confirmation

  const receipt = (id) => String(id).replace(/-/g, "").slice(0, 6).toUpperCase();

  function clearSale() {
    sale = null;
    $("#confirm-box").hidden = true;
    $("#repeat-warning").hidden = true;
    $("#short-warning").hidden = true;
  }

  /** A clean screen for the next customer: the last one's result and confirmation go. */
  function nextCustomer() {
    clearSale();
    $("#redeem-result").replaceChildren();
    $("#redeem-result").className = "result big-result";
    $("#next-customer").hidden = true;
  }

  for (const field of ["#code", "#passbook"]) {
    $(field).addEventListener("input", () => {
      if (!$("#redeem-result").hidden && $("#redeem-result").childNodes.length) nextCustomer();
      else clearSale();
    });
  }
  for (const field of ["#points", "#item", "#pin"]) $(field).addEventListener("input", clearSale);
  $("#next-customer").addEventListener("click", () => {
    nextCustomer();
    ready();
    $("#code").focus();
  });
  $("#cancel-sale").addEventListener("click", () => { clearSale(); $("#points").focus(); });

  function showResult(...children) {
    const box = $("#redeem-result");
    box.replaceChildren(...children);
    box.scrollIntoView({ block: "center" });
    box.focus({ preventScroll: true });
  }

  $("#redeem-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const button = $("#redeem");
    button.disabled = true;
    nextCustomer();
    try {
      const who = await whose();
      if (!who) return;
      const body = { ...who, points: Number(form.points.value),
                     description: form.item.value.trim() };
      let holder;
      try {
        holder = await api("POST", "/v1/till/holder", who,
                           { "Idempotency-Key": newKey() });
      } catch (error) {
        refused(error);
        return;
      }
      sale = { body, holder };
      $("#confirm-name").textContent = holder.name;
      $("#confirm-passbook").textContent = holder.passbook_no;
      $("#confirm-available").textContent = `${holder.points_available} ${t("points_unit")}`;
      $("#confirm-points").textContent = `${body.points} ${t("points_unit")}`;
      $("#confirm-item").textContent = body.description || "—";
      const again = recent.find((r) => r.passbook_no === holder.passbook_no &&
        r.points === body.points && Date.now() - r.at < REPEAT_MS);
      $("#repeat-warning").hidden = !again;
      if (again) {
        $("#repeat-warning").textContent = t("repeat_sale")
          .replace("{n}", Math.max(1, Math.round((Date.now() - again.at) / 1000)))
          .replace("{points}", body.points);
      }
      const short = holder.points_available < body.points;
      $("#short-warning").hidden = !short;
      $("#short-warning").textContent = t("short_of_points")
        .replace("{available}", holder.points_available);
      $("#confirm-sale").disabled = short;
      $("#confirm-sale").textContent = again ? t("confirm_again") : t("confirm_take");
      $("#confirm-box").hidden = false;
      $("#confirm-box").scrollIntoView({ block: "center" });
      (short ? $("#cancel-sale") : $("#confirm-sale")).focus({ preventScroll: true });
    } finally {
      button.disabled = false;
    }
  });

  function refused(error) {
    if (error.status < 500 && error.slug !== "idempotency-key-in-flight") pending = null;
    const said = problem(error) + (error.slug === "insufficient-balance" && sale
      ? ` · ${t("short_of_points").replace("{available}", sale.holder.points_available)}` : "");
    $("#redeem-result").className = "result big-result failed";
    showResult(el("span", { class: "problem" }, said));
    // A code that will not work again, or a wrong PIN: clear it for the next try. A refusal
    // such as too few points leaves the code usable.
    if (error.slug === "payment-code-used" || error.slug === "payment-code-invalid") {
      $("#code").value = "";
      $("#code").focus({ preventScroll: true });
    } else if (error.slug === "pin-invalid" || error.slug === "pin-locked") {
      $("#pin").value = "";
      $("#pin").focus({ preventScroll: true });
    }
  }

  $("#confirm-sale").addEventListener("click", async () => {
    if (!sale) return;
    const button = $("#confirm-sale");
    button.disabled = true;
    const { body, holder } = sale;
    const signature = JSON.stringify(body);
    if (!pending || pending.signature !== signature) pending = { signature, key: newKey() };
    try {
      const done = await api("POST", "/v1/redemptions", body, { "Idempotency-Key": pending.key });
      pending = null;
      recent.push({ passbook_no: holder.passbook_no, points: done.points, at: Date.now() });
      while (recent.length && Date.now() - recent[0].at > REPEAT_MS) recent.shift();
      clearSale();
      // Ready for the next customer: nobody is charged by mistake for the last one's code.
      ready();
      $("#redeem-result").className = "result big-result done";
      showResult(
        el("span", { class: "sale-who", id: "sale-who" }, holder.name),
        el("span", { class: "sale-points" }, `−${done.points} ${t("points_unit")} · ${t("sale_done")}`),
        el("span", { class: "sale-balance" }, `${t("balance_after")} `,
          el("strong", { id: "balance-after" }, done.balance_after)),
        el("span", { class: "sale-receipt" }, `${t("receipt_no")} `,
          el("strong", { id: "receipt", "data-id": done.id }, receipt(done.id))));
      $("#next-customer").hidden = false;
      await statement();
    } catch (error) {
      clearSale();
      refused(error);
    } finally {
      button.disabled = false;
    }
  });

  let refundPending = null;
  const refundable = new Map();  // redemption id -> its statement line
  $("#refund-of").addEventListener("change", () => {
    const line = refundable.get($("#refund-of").value);
    if (line) $("#refund-points").value = Math.abs(line.points);
  });
  $("#refund-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const id = $("#refund-of").value;
    if (!id) { Linli.sayBeside($("#refund-of"), t("pick_receipt"), "error"); return; }
    const body = { points: Number(form.points.value) };
    const signature = id + JSON.stringify(body);
    if (!refundPending || refundPending.signature !== signature) {
      refundPending = { signature, key: newKey() };
    }
    try {
      const done = await api("POST", `/v1/redemptions/${encodeURIComponent(id)}/refunds`, body,
                             { "Idempotency-Key": refundPending.key });
      refundPending = null;
      $("#refund-result").textContent = `${t("receipt_no")} ${receipt(id)} · +${done.points} · ` +
        `${t("refunded_ok")} ${done.balance_after}`;
      $("#refund-result").className = "result done";
      form.reset();
      await statement();
    } catch (error) {
      if (error.status < 500) refundPending = null;
      $("#refund-result").textContent = problem(error);
      $("#refund-result").className = "result failed";
    }
  });

  async function statement() {
    const start = new Date();
    start.setHours(0, 0, 0, 0);
    const query = new URLSearchParams({ from: start.toISOString(), limit: 100 });
    const found = await api("GET", `/v1/merchants/${merchantId}/statement?${query}`);
    const totals = found.totals;
    $("#totals").textContent = `${t("totals")}：${t("redeemed")} ${totals.redeemed} · ` +
      `${t("refunded")} ${totals.refunded}`;
    const chosen = $("#refund-of").value;
    refundable.clear();
    const sales = found.items.filter((line) => line.kind === "redemption");
    sales.forEach((line) => refundable.set(line.reference.split(":").pop(), line));
    $("#refund-of").replaceChildren(el("option", { value: "" }, t("pick_receipt")),
      ...sales.map((line) => {
        const id = line.reference.split(":").pop();
        return el("option", { value: id, selected: id === chosen },
          `${receipt(id)} · ${new Date(line.at).toLocaleTimeString(Linli.lang, { hour: "2-digit", minute: "2-digit" })} · ${line.counterparty || ""} · ` +
          `${Math.abs(line.points)} ${t("points_unit")} ${line.description}`);
      }));
    $("#statement").replaceChildren(...(found.items.length ? found.items.map((line) => {
      const id = line.reference.split(":").pop();
      return el("li", { class: line.points > 0 ? "line plus" : "line minus" },
        el("span", { class: "what" },
          `${t("kind_" + line.kind)} ${Math.abs(line.points)} ${t("points_unit")} ${line.description}`),
        el("span", { class: "when" }, [when(line.at), line.counterparty,
          line.kind === "redemption" ? `${t("receipt_no")} ${receipt(id)}` : ""]
          .filter(Boolean).join(" · ")),
        line.kind === "redemption" ? el("button", {
          type: "button", class: "secondary", "aria-label": `${t("refund")} ${receipt(id)}`,
          onclick: () => {
            $("#refund-of").value = id;
            $("#refund-of").dispatchEvent(new Event("change"));
            $("#refund-points").focus();
          } }, t("refund")) : null);
    }) : [el("li", { class: "empty" }, t("no_lines"))]));
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
