/// The page's CSS and JavaScript, served from /static (no inline script or style: the CSP forbids them).
enum Assets {
    static let css = """
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2228;background:#f6f7f9}
        header.top{display:flex;gap:1.2em;align-items:center;padding:.6em 1.2em;background:#1d2a3a;color:#fff}
        header.top a{color:#cfe3ff;margin-right:.8em}
        header.top .me{margin-left:auto;opacity:.85}
        form.inline{display:inline}
        main.narrow{max-width:28em;margin:3em auto;background:#fff;padding:1.5em 2em;border-radius:8px}
        main.wide{max-width:70em;margin:1.5em auto;background:#fff;padding:1em 2em;border-radius:8px}
        main.split{display:grid;grid-template-columns:minmax(0,3fr) minmax(16em,2fr);gap:1.2em;padding:1.2em}
        section.work,aside.rulebook{background:#fff;border-radius:8px;padding:1em 1.4em}
        aside.rulebook{max-height:calc(100vh - 6em);overflow:auto;font-size:14px}
        .rule{border-top:1px solid #e3e6ea;padding-top:.4em}
        .rule h3{margin:.3em 0}
        .sub{color:#5b6470;font-size:13px;margin:.3em 0}
        pre{white-space:pre-wrap;word-wrap:break-word;background:#f0f3f7;padding:1em;border-radius:6px;font:16px/1.5 ui-monospace,monospace}
        #sample img,.review-item img{max-width:100%;max-height:60vh}
        .question{font-size:1.2em;font-weight:600}
        ol.answers{padding-left:0;list-style:none}
        ol.answers li{margin:.3em 0}
        ol.answers button{width:100%;text-align:left;padding:.55em .8em;font-size:1em;border:1px solid #b8c4d2;border-radius:6px;background:#fff;cursor:pointer}
        ol.answers button:hover,ol.answers button:focus{background:#e8f0fb}
        button{font:inherit;padding:.35em .8em;border-radius:5px;border:1px solid #9aa7b6;background:#fff;cursor:pointer}
        kbd{border:1px solid #aab;border-radius:3px;padding:0 .3em;font-size:12px;background:#fafafa}
        .actions{display:flex;gap:.6em;margin:.8em 0}
        #reason-box{display:grid;gap:.4em;margin:.8em 0}
        #reason-box[hidden]{display:none}
        textarea{width:100%;font:inherit;padding:.4em}
        input[type=password]{width:100%;font:inherit;padding:.5em;margin:.4em 0 1em}
        .error{color:#a4161a;font-weight:600}
        #status{min-height:1.4em;color:#0a6a2a}
        #status.bad{color:#a4161a}
        .progress{color:#33404f}
        table{border-collapse:collapse;margin:.6em 0}
        th,td{border:1px solid #d9dee4;padding:.3em .6em;text-align:left}
        .review-item{border-top:2px solid #e3e6ea;padding:.6em 0}
        .fits li::marker{content:"✓ "}
        .notfits li::marker{content:"✗ "}
        @media (max-width:800px){main.split{grid-template-columns:1fr}}
        """

    static let labelJS = #"""
        "use strict";
        (function () {
          const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
          const root = JSON.parse(document.getElementById("decision-path").textContent);
          const $ = (id) => document.getElementById(id);
          let sampleId = $("sample").dataset.id || null;
          let node = root;
          let trail = [];
          let pending = null; // {status, defaultReason}
          let busy = false;

          function status(text, bad) { $("status").textContent = text; $("status").className = bad ? "bad" : ""; }

          function renderQuestion() {
            $("question").textContent = node.question;
            $("trail").textContent = trail.map((s) => s.question + " → " + s.answer).join("  ·  ");
            const list = $("answers");
            list.replaceChildren();
            node.answers.forEach((a, i) => {
              const li = document.createElement("li");
              const b = document.createElement("button");
              b.type = "button";
              b.className = "answer";
              b.dataset.index = String(i);
              b.textContent = (i < 9 ? "[" + (i + 1) + "] " : "") + a.answer;
              b.addEventListener("click", () => choose(i));
              li.appendChild(b);
              list.appendChild(li);
            });
          }

          function nodeFor(steps) {
            let n = root;
            for (const s of steps) {
              const a = n.answers.find((x) => x.answer === s.answer);
              if (a && a.next) n = a.next;
            }
            return n;
          }

          function choose(i) {
            if (busy || pending || !sampleId) return;
            const a = node.answers[i];
            if (!a) return;
            trail.push({ question: node.question, answer: a.answer });
            if (a.next) { node = a.next; renderQuestion(); return; }
            if (a.label) { submit({ status: "label", value: a.label }, true); return; }
            if (a.skip !== undefined) { askReason("skip", a.skip, true); return; }
            if (a.escalate !== undefined) { askReason("unclear", a.escalate, true); return; }
          }

          function back() {
            if (busy) return;
            if (pending) { cancelReason(); return; }
            trail.pop();
            node = nodeFor(trail);
            renderQuestion();
          }

          // fromPath: the decision path ended here (its answers are sent); else the U/S keys (no answers sent).
          function askReason(kind, reason, fromPath) {
            pending = { status: kind, fromPath: !!fromPath };
            $("reason-label").textContent = kind === "skip" ? "Why skip this sample?" : "What is unclear?";
            $("reason").value = reason || "";
            $("reason-box").hidden = false;
            $("reason").focus();
          }

          function cancelReason() {
            if (pending && pending.fromPath && trail.length) trail.pop();
            pending = null;
            $("reason-box").hidden = true;
            renderQuestion();
          }

          function sendReason() {
            const reason = $("reason").value.trim();
            if (!reason) { status("Give a reason first.", true); return; }
            submit({ status: pending.status, reason: reason }, pending.fromPath);
          }

          async function submit(answer, withPath) {
            busy = true;
            const body = Object.assign({ sample: sampleId }, answer);
            if (withPath !== false && trail.length) body.answers = trail.map((s) => s.answer);
            try {
              const r = await fetch("/api/labels", {
                method: "POST", credentials: "same-origin",
                headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
                body: JSON.stringify(body),
              });
              const j = await r.json().catch(() => ({}));
              if (r.status !== 201) {
                status("Not saved: " + ((j.error && j.error.message) || r.status), true);
                busy = false;
                return;
              }
              status("Saved: " + (answer.value || answer.status) + ".");
              pending = null;
              $("reason-box").hidden = true;
              await loadNext();
            } catch (e) {
              status("Not saved (network): " + e, true);
            }
            busy = false;
          }

          async function loadNext() {
            const r = await fetch("/api/queue/next", { credentials: "same-origin" });
            const j = await r.json();
            trail = [];
            node = root;
            const box = $("sample");
            box.replaceChildren();
            if (!j.sample) {
              sampleId = null;
              $("empty").hidden = false;
              $("path").hidden = true;
              $("actions").hidden = true;
              return;
            }
            sampleId = j.sample.id;
            box.dataset.id = sampleId;
            box.dataset.modality = j.sample.modality;
            if (j.sample.text !== undefined) {
              const pre = document.createElement("pre");
              pre.id = "sample-text";
              pre.textContent = j.sample.text;
              box.appendChild(pre);
            } else if (j.sample.modality === "image") {
              const img = document.createElement("img");
              img.id = "sample-image";
              img.alt = "sample " + j.sample.shortId;
              img.src = j.sample.contentUrl;
              box.appendChild(img);
            } else if (j.sample.modality === "audio") {
              const au = document.createElement("audio");
              au.id = "sample-audio";
              au.controls = true;
              au.src = j.sample.contentUrl;
              box.appendChild(au);
            }
            $("done").textContent = String(j.progress.done);
            $("remaining").textContent = String(j.progress.remaining);
            renderQuestion();
          }

          document.addEventListener("keydown", (e) => {
            if (e.ctrlKey || e.metaKey || e.altKey) return;
            if (pending) {
              if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); sendReason(); }
              else if (e.key === "Escape") { e.preventDefault(); cancelReason(); }
              return;
            }
            if (e.target && (e.target.tagName === "TEXTAREA" || e.target.tagName === "INPUT")) return;
            if (e.key >= "1" && e.key <= "9") { e.preventDefault(); choose(Number(e.key) - 1); }
            else if (e.key === "Backspace") { e.preventDefault(); back(); }
            else if (e.key === "u" || e.key === "U") { e.preventDefault(); if (sampleId) askReason("unclear", ""); }
            else if (e.key === "s" || e.key === "S") { e.preventDefault(); if (sampleId) askReason("skip", ""); }
          });
          $("back").addEventListener("click", back);
          $("unclear").addEventListener("click", () => sampleId && askReason("unclear", ""));
          $("skip").addEventListener("click", () => sampleId && askReason("skip", ""));
          $("reason-send").addEventListener("click", sendReason);
          $("reason-cancel").addEventListener("click", cancelReason);
          if (sampleId) renderQuestion();
        })();
        """#

    static let reviewJS = #"""
        "use strict";
        (function () {
          const csrf = (document.querySelector('meta[name="csrf"]') || {}).content || "";
          document.querySelectorAll("button.decide-label").forEach((b) => {
            b.addEventListener("click", async () => {
              const item = b.closest(".review-item");
              const out = item.querySelector(".status");
              const r = await fetch("/api/review/decisions", {
                method: "POST", credentials: "same-origin",
                headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
                body: JSON.stringify({ sample: item.dataset.sample, value: b.dataset.value }),
              });
              const j = await r.json().catch(() => ({}));
              if (r.status === 201) {
                out.textContent = "Decided: " + b.dataset.value + ".";
                item.classList.add("decided");
                item.querySelectorAll("button").forEach((x) => { x.disabled = true; });
              } else {
                out.textContent = "Not saved: " + ((j.error && j.error.message) || r.status);
              }
            });
          });
        })();
        """#
}
