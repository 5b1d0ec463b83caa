/* A member card (会员卡) to print: the resident's name, passbook number and its QR code, and the
   community's name, on one card of 85.6 × 54 mm. */
"use strict";

document.addEventListener("DOMContentLoaded", async () => {
  const { $, t, api, notice, problem } = Linli;
  const signedIn = Linli.requireRole("staff", "member");
  if (!signedIn) return;
  const memberId = new URLSearchParams(location.search).get("member_id") || signedIn.member_id;
  if (signedIn.role === "member") {
    $("#back").href = "/web/volunteer";
    $("#back").textContent = t("back_to_mine");
  }
  if (!memberId) { notice(t("need_role"), "error"); return; }
  $("#print").addEventListener("click", () => window.print());

  try {
    const member = await api("GET", `/v1/members/${encodeURIComponent(memberId)}`);
    $("#card-name").textContent = member.name;
    $("#card-passbook").textContent = member.passbook_no;
    const qr = $("#card-qr");
    qr.src = "/web/qr.svg?text=" + encodeURIComponent(member.passbook_no);
    qr.hidden = false;
    document.title = `${member.name} · ${t("member_card")}`;
    try {
      const community = await api("GET", `/v1/communities/${member.community_id}`);
      $("#card-community").textContent = community.name;
    } catch (error) {
      // A member may not read the community: the card keeps the app's name.
    }
    document.body.dataset.ready = "true";
  } catch (error) {
    notice(problem(error), "error");
  }
});
