/* Sign in: a token pasted, typed, scanned, or carried in a sign-in link (#token=...). A link's
   token is traded first for the phone's own token (POST /v1/sign-in), so the link works once
   and the phone keeps a token of its own. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, api, t, notice, saveSession, scanInto } = Linli;
  const HOME = { member: "/web/volunteer", merchant: "/web/till", staff: "/web/staff",
                 admin: "/web/staff", auditor: "/web/staff" };
  const input = $("#token");
  let pastedLink = false;  // the field held a whole link, not a bare token

  /** The token to keep: the phone's own for a link's token; the token itself otherwise. */
  async function traded(token) {
    try {
      const answer = await api("POST", "/v1/sign-in", {}, {}, token);
      return answer.token;
    } catch (error) {
      // Not a link's token (409 not-a-sign-in-link), or a server without sign-in links: keep it.
      if (error instanceof Linli.ApiError && error.status !== 401) return token;
      throw error;
    }
  }

  async function signIn(token, remember, fromLinkText) {
    notice(t("signing_in"));
    let kept;
    try {
      kept = await traded(token);
    } catch (error) {
      const replaced = error instanceof Linli.ApiError && error.status === 401 && fromLinkText;
      notice(replaced ? t("link_replaced") : t("signin_failed"), "error");
      return;
    }
    try {
      const me = await api("GET", "/v1/me", undefined, {}, kept);
      // A district's staff (auditor) uses the staff pages as staff (auditor) of its communities.
      me.role = me.role.replace(/^district_/, "");
      saveSession({ token: kept, ...me }, remember);
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
    const text = input.value;
    signIn(fromLink(text), $("#remember").checked, pastedLink || text.includes("token="));
  });
  input.addEventListener("change", () => {
    pastedLink = input.value.includes("token=");
    if (pastedLink) input.value = fromLink(input.value);
  });
  $("#scan").addEventListener("click", () => scanInto(input, $("#camera")).catch(
    () => notice(t("scan_unsupported"), "warn")));

  function fromHash() {
    if (!location.hash.includes("token=")) return;
    const carried = fromLink(location.hash);
    history.replaceState(null, "", location.pathname + location.search);
    signIn(carried, true, true);
  }
  window.addEventListener("hashchange", fromHash);
  fromHash();
});
