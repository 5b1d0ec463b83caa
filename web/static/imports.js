/* Staff console, 导入: choose a spreadsheet (CSV or XLSX) and what it holds, check it (a dry
   run: every problem as a table by row and column), then import it. A file whose rows have
   problems is not imported at all; the same file twice is imported once. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { $, el, t, notice } = Linli;
  const signedIn = Linli.session();
  if (!signedIn || !["staff", "admin"].includes(signedIn.role)) return;
  const communityId = signedIn.community_id ||
    new URLSearchParams(location.search).get("community_id");
  if (!communityId || !$("#import-form")) return;

  /** Sends the chosen file; the answer (or the problem) as data, with the status. */
  async function send(dryRun) {
    const file = $("#import-file").files[0];
    const query = new URLSearchParams({ kind: $("#import-kind").value, community_id: communityId,
                                        dry_run: String(dryRun), file_name: file.name });
    const response = await fetch("/v1/imports?" + query, {
      method: "POST", body: file,
      headers: { Authorization: "Bearer " + signedIn.token, Accept: "application/json",
                 "Content-Type": file.type || "application/octet-stream" },
    });
    return { status: response.status, data: await response.json() };
  }

  function showProblems(problems) {
    const table = $("#import-problems");
    table.hidden = problems.length === 0;
    $("#import-problems-body").replaceChildren(...problems.map((p) =>
      el("tr", {}, el("td", {}, String(p.row)), el("td", {}, p.column || "—"),
         el("td", {}, p.detail))));
  }

  function summary(answer, dryRun) {
    const words = dryRun ? t("import_checked") : t("import_done");
    return words.replace("{rows}", answer.rows).replace("{accepted}", answer.accepted)
      .replace("{rejected}", answer.rejected);
  }

  async function run(dryRun) {
    if (!$("#import-file").files.length) { Linli.sayBeside($("#import-check"), t("import_choose_file"), "error"); return; }
    $("#import-check").disabled = $("#import-commit").disabled = true;
    $("#import-result").textContent = t("import_working");
    try {
      const { status, data } = await send(dryRun);
      if (status >= 400) {
        $("#import-result").textContent = `${data.title}：${data.detail}`;
        showProblems(data.problems || []);
        return;
      }
      $("#import-result").textContent = summary(data, dryRun) +
        (status === 200 && !dryRun ? ` ${t("import_again")}` : "");
      showProblems(data.problems);
      $("#import-commit").hidden = !dryRun || data.rejected > 0;
    } catch (error) {
      $("#import-result").textContent = t("error") + ": " + error;
    } finally {
      $("#import-check").disabled = $("#import-commit").disabled = false;
    }
  }

  $("#import-file").addEventListener("change", () => {
    $("#import-commit").hidden = true;
    showProblems([]);
    $("#import-result").textContent = "";
  });
  $("#import-kind").addEventListener("change", () => { $("#import-commit").hidden = true; });
  $("#import-check").addEventListener("click", () => run(true));
  $("#import-commit").addEventListener("click", () => run(false));
});
