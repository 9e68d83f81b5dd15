/*
 * Setup page helpers: print, copy, and downloads that keep the page usable.
 *
 * A download is a POST to the required action; Keycloak's action code in the page URL is single-use, so after a
 * download the server sends the next action URL in X-Backup-Codes-Next-Action and we point every form at it.
 * Without JavaScript the buttons still work as plain form posts (print/copy stay hidden).
 */
(function () {
  "use strict";

  var status = document.getElementById("backup-code-tools-status");

  function announce(text) {
    if (status) {
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  function codesText() {
    var items = document.querySelectorAll("#backup-code-list .bc-code");
    var lines = [];
    for (var i = 0; i < items.length; i++) {
      lines.push(items[i].textContent.trim());
    }
    return lines.join("\n") + "\n";
  }

  function copyFallback(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  var copyButton = document.getElementById("backup-code-copy");
  if (copyButton) {
    copyButton.hidden = false;
    copyButton.addEventListener("click", function () {
      var text = codesText();
      var done = function () { announce(copyButton.dataset.copied); };
      var failed = function () {
        if (copyFallback(text)) { done(); } else { announce(copyButton.dataset.copyFailed); }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, failed);
      } else {
        failed();
      }
    });
  }

  var printButton = document.getElementById("backup-code-print");
  if (printButton) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }

  function fileName(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : fallback;
  }

  function retargetForms(oldAction, nextAction) {
    var forms = document.querySelectorAll("form");
    for (var i = 0; i < forms.length; i++) {
      if (forms[i].getAttribute("action") === oldAction || forms[i].action === oldAction) {
        forms[i].setAttribute("action", nextAction);
      }
    }
  }

  var downloadForm = document.getElementById("backup-code-download-form");
  if (downloadForm && window.fetch && window.URL && window.Blob) {
    downloadForm.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || !submitter.value) {
        return;
      }
      event.preventDefault();
      var oldAction = downloadForm.getAttribute("action");
      var body = new URLSearchParams();
      body.append("download", submitter.value);
      submitter.disabled = true;
      fetch(oldAction, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        var next = response.headers.get(downloadForm.dataset.nextActionHeader);
        if (!response.ok || type.indexOf("text/html") === 0 || !next) {
          // The server answered with a page (e.g. "download temporarily unavailable"): show it, it has fresh forms.
          return response.text().then(function (html) {
            document.open();
            document.write(html);
            document.close();
          });
        }
        retargetForms(oldAction, next);
        return response.blob().then(function (blob) {
          var url = URL.createObjectURL(blob);
          var link = document.createElement("a");
          link.href = url;
          link.download = fileName(response, "backup-codes." + submitter.value);
          link.style.display = "none";
          document.body.appendChild(link);
          link.click();
          document.body.removeChild(link);
          window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
        });
      }).catch(function () {
        announce(status ? status.dataset.downloadFailed : "");
      }).then(function () {
        submitter.disabled = false;
      });
    });
  }
})();
