/// The mustache templates of the pages, embedded so the `strata` binary is self-contained.
/// `{{x}}` escapes HTML; `{{{x}}}` is used only for JSON the server made and escaped for a `<script>` block.
enum Templates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "login": login, "label": label, "review": review, "admin": admin, "error": error,
        "rulebook": rulebook,
    ]

    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#csrf}}<meta name="csrf" content="{{csrf}}">{{/csrf}}
        <title>{{title}} · Strata labeling</title>
        <link rel="stylesheet" href="/static/app.css">
        </head>
        <body>
        <header class="top">
          <strong>Strata labeling</strong>
          {{#me}}
          <nav>
            <a href="/label">Label</a>
            {{#canReview}}<a href="/review">Review</a>{{/canReview}}
            {{#canAdmin}}<a href="/admin">Admin</a>{{/canAdmin}}
          </nav>
          <span class="me">{{name}} ({{role}})</span>
          <form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Sign out</button></form>
          {{/me}}
        </header>
        """

    static let foot = """
        </body>
        </html>
        """

    static let login = """
        {{> head}}
        <main class="narrow">
          <h1>Sign in</h1>
          {{#message}}<p class="error" id="login-error">{{message}}</p>{{/message}}
          <form method="post" action="/login" id="login-form">
            <input type="hidden" name="csrf" value="{{loginCsrf}}">
            <label for="token">Your token</label>
            <input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
            <button type="submit" id="sign-in">Sign in</button>
          </form>
          <p class="hint">An admin creates tokens with <code>strata label taskers add NAME --role tasker</code>.</p>
        </main>
        {{> foot}}
        """

    static let rulebook = """
        <aside class="rulebook" id="rulebook">
          <h2>Rulebook</h2>
          {{#labels}}
          <section class="rule" id="rule-{{name}}">
            <h3>{{#key}}<kbd>{{key}}</kbd> {{/key}}{{name}}</h3>
            <p>{{definition}}</p>
            {{#hasSigns}}<p class="sub">Signs</p>{{/hasSigns}}
            <ul>{{#signs}}<li>{{.}}</li>{{/signs}}</ul>
            {{#hasFits}}<p class="sub">Fits</p>{{/hasFits}}
            <ul class="fits">{{#fits}}<li>{{#text}}“{{text}}”{{/text}}{{#sample}}sample {{sample}}{{/sample}} <em>— {{why}}</em></li>{{/fits}}</ul>
            {{#hasNotFits}}<p class="sub">Does not fit</p>{{/hasNotFits}}
            <ul class="notfits">{{#notFits}}<li>{{#text}}“{{text}}”{{/text}}{{#sample}}sample {{sample}}{{/sample}} <em>— {{why}}</em></li>{{/notFits}}</ul>
          </section>
          {{/labels}}
          <section class="rule">
            <h3>Policies</h3>
            <p><strong>Unclear:</strong> {{policies.unclear.action}}. {{policies.unclear.note}}</p>
            <p><strong>No label fits:</strong> {{policies.noFit.action}}. {{policies.noFit.note}}</p>
            {{#policies.doNotLabel}}<p><strong>Do not label</strong> {{what}}: {{action}}.</p>{{/policies.doNotLabel}}
          </section>
        </aside>
        """

    static let label = """
        {{> head}}
        <main class="split">
          <section class="work">
            <p class="progress" id="progress"><span id="done">{{done}}</span> answered · <span id="remaining">{{remaining}}</span> samples waiting</p>
            <div id="sample" data-id="{{sample.id}}" data-modality="{{sample.modality}}">
              {{#sample.text}}<pre id="sample-text">{{sample.text}}</pre>{{/sample.text}}
              {{#isImage}}<img id="sample-image" src="{{sample.contentUrl}}" alt="sample {{sample.shortId}}">{{/isImage}}
              {{#isAudio}}<audio id="sample-audio" controls preload="auto" src="{{sample.contentUrl}}"></audio>{{/isAudio}}
            </div>
            <p id="empty" {{^empty}}hidden{{/empty}}>Your queue is empty: every sample has its annotators. Thank you!</p>
            <section id="path" aria-live="polite" {{#empty}}hidden{{/empty}}>
              <p id="trail" class="sub"></p>
              <p id="question" class="question"></p>
              <ol id="answers" class="answers"></ol>
            </section>
            <div id="reason-box" hidden>
              <label for="reason" id="reason-label">Reason</label>
              <textarea id="reason" rows="2"></textarea>
              <button id="reason-send" type="button">Send (Enter)</button>
              <button id="reason-cancel" type="button">Cancel (Esc)</button>
            </div>
            <div class="actions" {{#empty}}hidden{{/empty}} id="actions">
              <button id="back" type="button">Back (Backspace)</button>
              <button id="unclear" type="button">Unclear (U)</button>
              <button id="skip" type="button">Skip (S)</button>
            </div>
            <p id="status" role="status"></p>
            <p class="keys">Keys: <kbd>1</kbd>–<kbd>9</kbd> answer · <kbd>Backspace</kbd> back · <kbd>U</kbd> unclear · <kbd>S</kbd> skip · <kbd>Enter</kbd> send the reason · <kbd>Esc</kbd> cancel</p>
          </section>
          {{> rulebook}}
        </main>
        <script type="application/json" id="decision-path">{{{pathJSON}}}</script>
        <script src="/static/label.js"></script>
        {{> foot}}
        """

    static let review = """
        {{> head}}
        <main class="split">
          <section class="work">
            <h1>Adjudication queue</h1>
            <p class="sub">Samples whose answers disagree or that someone found unclear. Your decision settles the sample.</p>
            {{^items}}<p id="review-empty">Nothing to review.</p>{{/items}}
            {{#items}}
            <article class="review-item" id="review-{{sample}}" data-sample="{{sample}}">
              <h2>Sample {{shortId}}</h2>
              {{#why}}<p class="sub">{{why}}</p>{{/why}}
              {{#text}}<pre>{{text}}</pre>{{/text}}
              {{#isImage}}<img src="{{contentUrl}}" alt="sample {{shortId}}">{{/isImage}}
              {{#isAudio}}<audio controls src="{{contentUrl}}"></audio>{{/isAudio}}
              <table class="answers-table">
                <tr><th>Annotator</th><th>Answer</th><th>Reason</th></tr>
                {{#answers}}<tr><td>{{annotator}}</td><td>{{status}}{{#value}}: <strong>{{value}}</strong>{{/value}}</td><td>{{reason}}</td></tr>{{/answers}}
              </table>
              <p class="decide">Decide:
                {{#labelNames}}<button type="button" class="decide-label" data-value="{{.}}">{{.}}</button> {{/labelNames}}
              </p>
              <p class="status" role="status"></p>
            </article>
            {{/items}}
          </section>
          {{> rulebook}}
        </main>
        <script src="/static/review.js"></script>
        {{> foot}}
        """

    static let admin = """
        {{> head}}
        <main class="wide">
          <h1>Progress</h1>
          <table class="figures" id="progress-table">
            <tr><th>Samples in the queue</th><td id="samples">{{samples}}</td></tr>
            <tr><th>Samples with all {{annotatorsPerSample}} annotators</th><td>{{samplesWithAllAnnotators}}</td></tr>
            <tr><th>Open assignments</th><td>{{openAssignments}}</td></tr>
            <tr><th>Answers</th><td id="answers-count">{{answers}}</td></tr>
            <tr><th>Awaiting review</th><td>{{awaitingReview}}</td></tr>
            <tr><th>Observed agreement</th><td id="percent-agreement">{{percentAgreement}}</td></tr>
            <tr><th>Fleiss' kappa</th><td id="fleiss">{{fleissKappa}}</td></tr>
            <tr><th>Krippendorff's alpha</th><td id="alpha">{{krippendorffAlpha}}</td></tr>
            <tr><th>Mean Cohen's kappa (pairs)</th><td>{{meanCohenKappa}}</td></tr>
            <tr><th>Labels below the agreement threshold ({{agreementThreshold}})</th><td>{{#labelsBelowThreshold}}{{.}} {{/labelsBelowThreshold}}</td></tr>
            <tr><th>Gold rate</th><td>{{goldRate}}</td></tr>
          </table>
          <h2>Annotators</h2>
          <table class="grid" id="annotators">
            <tr><th>Name</th><th>Role</th><th>Answers</th><th>Skipped</th><th>Unclear</th><th>Gold answered</th><th>Gold accuracy</th><th>Agreement</th><th>Mean Cohen's kappa</th></tr>
            {{#annotators}}<tr><td>{{name}}</td><td>{{role}}</td><td>{{answers}}</td><td>{{skipped}}</td><td>{{unclear}}</td><td>{{goldAnswered}}</td><td>{{goldAccuracy}}</td><td>{{agreement}}</td><td>{{meanCohenKappa}}</td></tr>{{/annotators}}
          </table>
          <p class="sub">The same figures as JSON: <code>GET /api/admin/progress</code>; the full report: <code>strata label agreement</code>.</p>
        </main>
        {{> foot}}
        """

    static let error = """
        {{> head}}
        <main class="narrow">
          <h1>{{title}}</h1>
          <p>{{message}}</p>
          <p><a href="/">Back</a></p>
        </main>
        {{> foot}}
        """
}
