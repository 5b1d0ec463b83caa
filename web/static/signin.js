/* Sign in: a token pasted, typed, scanned, or carried in the link (#token=...). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, api, t, notice, saveSession, scanInto } = Linli;
  const HOME = { member: "/web/volunteer", merchant: "/web/till", staff: "/web/staff",
                 admin: "/web/staff", auditor: "/web/staff" };
  const input = $("#token");

  async function signIn(token, remember) {
    try {
      const me = await api("GET", "/v1/me", undefined, {}, token);
      saveSession({ token, ...me }, remember);
      const next = new URLSearchParams(location.search).get("next");
      location.href = next && next.startsWith("/web/") ? next : HOME[me.role] || "/web/";
    } catch (error) {
      notice(t("signin_failed"), "error");
    }
  }

  function fromLink(text) {
    const match = /[#&]token=([^&]+)/.exec(text);
    return match ? decodeURIComponent(match[1]) : text.trim();
  }

  $("#signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(fromLink(input.value), $("#remember").checked);
  });
  input.addEventListener("change", () => {
    if (input.value.includes("token=")) input.value = fromLink(input.value);
  });
  $("#scan").addEventListener("click", () => scanInto(input, $("#camera")).catch(
    () => notice(t("scan_unsupported"), "warn")));

  function fromHash() {
    if (!location.hash.includes("token=")) return;
    const carried = fromLink(location.hash);
    history.replaceState(null, "", location.pathname + location.search);
    signIn(carried, true);
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
});
