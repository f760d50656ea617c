/// Commented YAML templates for `strata init`: valid as written, with a comment above every key
/// and realistic example content (a support-message router for text, a shape-sorting camera for
/// images, a wake-word spotter for audio, a field-report triage for several modalities).
///
/// An empty `modalities` list is treated as `[text]`.
public enum SpecTemplates {
    /// `strata.yaml` for a project called `name`.
    public static func project(name: String, modalities: [Modality]) -> String {
        let ms = normalized(modalities)
        let formatLines = ms.map { m -> String in
            let (list, comment) = defaultFormats(m)
            return "  # \(comment)\n  \(m.rawValue): [\(list.map(\.rawValue).joined(separator: ", "))]"
        }.joined(separator: "\n")
        let imageLimit = ms.contains(.image)
            ? "  # Largest image, in pixels (width x height); larger images are quarantined.\n"
            : "  # Largest image, in pixels (width x height); only used by image projects.\n"
        return """
            # strata.yaml: the project's configuration, read by every strata command.
            # Lines starting with # are comments. Keys are snake_case; unknown keys are errors,
            # so a typo never silently falls back to a default.

            # Version of this file's format. Strata refuses files newer than it understands.
            version: 1

            # The project's name, shown in reports, exports and dataset cards.
            name: \(quoted(name))

            # The kinds of data this project holds: text, image and/or audio.
            modalities: [\(ms.map(\.rawValue).joined(separator: ", "))]

            # The formats stored as they are, per modality. Keep one or two per modality:
            # inputs in other formats are converted by a cleaning stage or quarantined.
            # Known formats: text: txt, jsonl, csv; image: png, jpeg, webp, gif, tiff, bmp;
            # audio: wav, flac, ogg, mp3, aiff.
            formats:
            \(formatLines)

            # How stored files are named under data/.
            naming:
              # Placeholders: {source} (where it came from), {date} (yyyymmdd collected),
              # {id} (start of the content hash) and {ext}. {id} and {ext} are required.
              pattern: "{source}_{date}_{id}.{ext}"
              # Characters of the content hash used for {id}, from 6 to 64.
              id_length: 10

            # Size limits checked at ingest; larger inputs go to quarantine/ with a reason.
            limits:
              # Largest file, in bytes (1 GiB). Record files (--records) are streamed: only their rows are limited.
              max_file_bytes: 1073741824
              # Largest single record (one JSONL line or CSV row), in bytes (1 MiB).
              max_record_bytes: 1048576
            \(imageLimit)  max_image_pixels: 50000000

            # Where pipeline tasks run (`strata run`).
            executor:
              # local: a worker pool on this machine. slurm: workers started through Slurm on a
              # cluster whose nodes share this project's filesystem.
              kind: local
              # Tasks run in parallel; leave it out to use one per CPU core (on Slurm: one worker per
              # CPU of the partition, at most 64 with srun and 256 with sbatch).
              # workers: 4
              # Slurm only (see docs/slurm.md); all optional, the cluster's defaults apply otherwise.
              # partition: batch
              # time_limit: "1:00:00"       # per worker job: minutes, h:mm:ss or d-hh:mm:ss
              # cpus_per_task: 1
              # mem_per_task: 4G
              # mode: workers               # workers: workers started once per run take the tasks from the
              #                             # shared filesystem; per-step: one array job per step
              # launcher: srun              # workers mode: srun (one job per worker, started at once; this
              #                             # machine must be allowed to run srun) or sbatch (one array job)
              # tasks_per_job: 10           # per-step mode: tasks one array job runs in turn
              # sbatch_args: ["--account=ml"]   # passed to sbatch, or to srun with that launcher
              # strata_binary: /shared/bin/strata   # default: the binary that runs `strata run`

            # Defaults for command-line options, as `option: value` (all optional).
            defaults:
              # The source name `strata ingest` uses when --source is not given (optional).
              # source: \(example(ms).sourceName)

            """
    }

    /// `intent.yaml`: what the model is for and what data it needs.
    public static func intent(modalities: [Modality]) -> String {
        let ex = example(normalized(modalities))
        let labels = ex.labels.map(\.name)
        return """
            # intent.yaml: what the model is for. Write it before collecting data: every
            # requirement below is checked against the catalog by `strata check`
            # (the coverage table), so gaps show up early, not as surprises.

            # Version of this file's format.
            version: 1

            # Who uses the model, for what decision, and what happens with its output.
            use_case: \(quoted(ex.useCase))

            # Where the model meets its inputs. Lists may stay empty ([]) if they do not apply.
            environment:
              # Devices or channels the inputs come from.
              devices: \(flowList(ex.devices))
              # How people write or speak (text and audio); [] for images.
              language_style: \(flowList(ex.languageStyle))
              # Connectivity where the model runs.
              network: \(quoted(ex.network))
              # What users do that shapes the data.
              user_behaviour: \(flowList(ex.userBehaviour))
              # What happens with a prediction.
              workflow: \(quoted(ex.workflow))

            # Descriptions of the inputs the model will see, to guide collection and review.
            inputs:
              # Clear, typical inputs.
              good:
            \(blockList(ex.good, indent: 4))
              # Inputs the model should reject or route elsewhere.
              bad:
            \(blockList(ex.bad, indent: 4))
              # Real but degraded inputs it must still handle.
              messy:
            \(blockList(ex.messy, indent: 4))
              # Uncommon inputs that matter.
              rare:
            \(blockList(ex.rare, indent: 4))

            # Metric thresholds a model trained on this data must reach. Each has a `metric`
            # (accuracy, precision, recall, f1, error_rate) and exactly one of `min` or `max`
            # (0 to 1); `label` restricts it to one label, `slice` to matching samples.
            success_criteria:
              - metric: accuracy
                min: 0.9
              - metric: recall
                # Recall of this label only.
                label: \(labels[ex.criticalLabel])
                min: 0.95
              - metric: f1
                # Only the samples whose metadata matches this selector.
                slice: \(flowMap(ex.slice))
                min: 0.85

            # Confusions that cost more than others: how often samples whose true label is
            # `truth` may be predicted as `predicted` (max_rate, 0 to 1), and why it matters.
            unacceptable_mistakes:
            \(ex.mistakes.map { m in
                """
                  - truth: \(m.truth)
                    predicted: \(m.predicted)
                    max_rate: \(m.maxRate)
                    why: \(quoted(m.why))
                """
            }.joined(separator: "\n"))

            # Coverage targets. Each requirement selects samples with `where` (metadata fields,
            # or `label`, `source`, `modality`; a value or a list of accepted values) and sets
            # `min_samples` (a count), `min_share` (a share of all samples, 0 to 1), or both.
            requirements:
              # The situations the model is mainly for.
              scenarios:
            \(ex.scenarios.map(requirementYAML).joined(separator: "\n"))
              # Unusual inputs that must still be covered.
              edge_cases:
            \(ex.edgeCases.map(requirementYAML).joined(separator: "\n"))
              # Degraded inputs (noise, blur, typos) the data must include.
              noise:
            \(ex.noise.map(requirementYAML).joined(separator: "\n"))

            """
    }

    /// `rulebook.yaml`: how taskers label.
    public static func rulebook(modalities: [Modality]) -> String {
        let ex = example(normalized(modalities))
        let labelBlocks = ex.labels.map { l in
            """
              - # A short name: lower-case letters, digits, `_`, `-` or `.` (e.g. noun.food). Names are unique.
                name: \(l.name)
                # One sentence a new tasker understands without context.
                definition: \(quoted(l.definition))
                # What to look for.
                signs: \(flowList(l.signs))
                # Examples that fit, each with `text` (inline) or `sample` (an id or path), and `why`.
                fits:
                  - \(l.fit.key): \(quoted(l.fit.value))
                    why: \(quoted(l.fit.why))
                # Near misses that do NOT fit, and why.
                not_fits:
                  - \(l.notFit.key): \(quoted(l.notFit.value))
                    why: \(quoted(l.notFit.why))
            """
        }.joined(separator: "\n")
        return """
            # rulebook.yaml: the labeling rules taskers see next to every sample.
            # Change it deliberately: every label event records the rulebook version it used.

            # Version of this file's format.
            version: 1

            # The labels. Every label needs a name and a definition; signs and examples make
            # taskers agree.
            labels:
            \(labelBlocks)

            # What to do when a sample does not go smoothly. Actions: skip, escalate
            # (send to a reviewer) or flag (label it, but mark it for review).
            policies:
              # The tasker cannot decide between labels.
              unclear:
                action: escalate
                note: "Pick escalate rather than guessing; a reviewer settles it."
              # No label fits the sample.
              no_fit:
                action: skip
                note: "Skip with a reason; many skips with one reason may mean a label is missing."
              # Samples that must not be labeled at all.
              do_not_label:
                - what: \(quoted(ex.doNotLabel))
                  action: flag

            # The guided questions a tasker answers. Each answer leads to exactly one of:
            # `label: <name>`, `skip: <reason>`, `escalate: <reason>` or `next:` (another question).
            decision_path:
            \(ex.decisionPath)

            # How many different taskers label each sample (1 or more).
            annotators_per_sample: 2

            # Share of queued samples that are gold (known answer) to measure tasker accuracy, 0 to 1.
            gold_rate: 0.05

            # Agreement (0 to 1) below which a sample goes to a reviewer.
            agreement_threshold: 0.7

            """
    }

    /// `pipeline.yaml`: the processing stages, starting empty with commented examples.
    public static func pipeline(modalities: [Modality]) -> String {
        let ms = normalized(modalities)
        var stages: [String] = []
        if ms.contains(.text) {
            stages.append("""
                  # Normalize text: Unicode NFC, control characters, whitespace, mojibake repair.
                  # Texts outside the length bounds are quarantined with the reason.
                  - name: clean-text
                    uses: clean.text
                    params: {normalize: nfc, strip_html: false, min_length: 1}
                """)
        }
        if ms.contains(.image) {
            stages.append("""
                  # Keep images in the allowed formats (others are converted to `target`), apply EXIF orientation,
                  # optionally limit the longer side (max_side) and strip metadata. Unchanged images are not re-encoded.
                  - name: clean-images
                    uses: clean.image
                    params: {formats: [jpeg, png], target: jpeg, quality: 90, auto_orient: true, strip_metadata: false}
                """)
        }
        if ms.contains(.audio) {
            stages.append("""
                  # Mix audio to mono, trim leading/trailing silence, optionally resample (sample_rate: 16000),
                  # and keep the allowed formats (others become `target`, 16-bit).
                  - name: clean-audio
                    uses: clean.audio
                    params: {formats: [wav, flac], target: wav, mono: true, trim_silence: true, silence_db: -45}
                """)
        }
        var quality: [String] = []
        if ms.contains(.image) {
            quality.append("image_min_side_ratio: 0.25, image_min_width: 8, image_min_height: 8, image_max_aspect_ratio: 4, image_min_stddev: 4, image_min_sharpness: 5")
        }
        if ms.contains(.audio) {
            quality.append("audio_min_duration_ratio: 0.1, audio_min_seconds: 0.1, audio_max_silent_fraction: 0.8, audio_max_clipped_fraction: 0.001")
        }
        stages.append("""
              # Quarantine low-value samples, each with a named reason: text (repetition, symbol soup, no words),
              # images (too-small, extreme-aspect-ratio, near-uniform, blurry), audio (too-short, mostly-silence, clipping).
              # Sizes and durations are judged against the source's own median (the data profile, `strata profile`)
              # with an absolute floor; turn a rule off by name with `disable: [repetitive-ngrams]` (docs/pipeline.md).
              - name: quality
                uses: filter.quality
            """ + (quality.isEmpty ? "" : "\n    params: {\(quality.joined(separator: ", "))}"))
        stages.append("""
              # Drop exact duplicates (text compared after case and whitespace folding; media byte for byte).
              # Each removal is a finding that points at the sample that was kept.
              - name: exact-dups
                uses: dedup.exact
                params: {keep: first}
            """)
        var near: [String] = []
        if ms.contains(.text) { near.append("shingle: auto, threshold: 0.8, ngram: 5, short_words: 64, char_threshold: 0.5") }
        if ms.contains(.image) { near.append("image_hash: both, image_max_distance: 24") }
        if ms.contains(.audio) { near.append("audio_min_similarity: 0.8") }
        stages.append("""
              # Group near duplicates and keep one per group (docs/pipeline.md). Texts: MinHash with LSH banding,
              # each pair decided on its measured Jaccard: word 5-grams (>= threshold), and for two texts under
              # short_words words also character 5-grams (>= char_threshold); scripts without spaces use characters.
              # Images: perceptual hashes find candidates (transparent images seen over a contrasting background),
              # verified on the pixels against the source's own nearest-neighbour distances. Audio: Chromaprint
              # fingerprints; clips too short for one are compared by log-mel signatures aligned in time.
              - name: near-dups
                uses: dedup.near
                params: {\(near.joined(separator: ", ")), keep: first}
            """)
        return """
            # pipeline.yaml: the stages `strata run` applies to samples, in order.
            # Each stage is cached by its code, parameters and input, so re-running only
            # redoes what changed; a crashed run resumes where it stopped.

            # Version of this file's format.
            version: 1

            # The stages. Each has a unique `name` (a slug), a `uses` (the stage kind) and
            # optional `params`. Kinds: clean.text, clean.image, clean.audio, filter.quality, dedup.exact,
            # dedup.near, command.
            stages:
            \(stages.joined(separator: "\n"))
              # Any program that reads JSONL samples on stdin and writes JSONL on stdout
              # ({"id": ...} keeps, {"id": ..., "drop": "reason"} quarantines, {"id": ..., "text": ...} rewrites):
              # - name: score
              #   uses: command
              #   command: "python3 filters/score.py"

            # The removal guard: a run stops before publishing anything when a stage would quarantine more than
            # max_removed of a source, remove more than max_duplicates of a source as duplicates, or take more than
            # max_label_loss of a label's samples (`strata run --preview` shows what each stage would remove).
            # guard:
            #   max_removed: 0.2
            #   max_duplicates: 0.5
            #   max_label_loss: 0.5
            #   accept: [near-dups]     # stages whose removals you accept as they are

            """
    }

    // MARK: - Helpers

    static func normalized(_ modalities: [Modality]) -> [Modality] {
        let set = Set(modalities)
        return set.isEmpty ? [.text] : Modality.allCases.filter(set.contains)
    }

    static func defaultFormats(_ m: Modality) -> ([FileFormat], String) {
        switch m {
        case .text: ([.jsonl, .txt], "JSON Lines for records with fields, plain text for free-form documents.")
        case .image: ([.png, .jpeg], "PNG for lossless captures, JPEG for camera photos.")
        case .audio: ([.wav, .flac], "WAV as recorded, FLAC for compressed lossless archives.")
        }
    }

    /// A double-quoted YAML scalar.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    static func flowList(_ items: [String]) -> String {
        "[" + items.map(quoted).joined(separator: ", ") + "]"
    }

    static func blockList(_ items: [String], indent: Int) -> String {
        let pad = String(repeating: " ", count: indent)
        return items.map { "\(pad)- \(quoted($0))" }.joined(separator: "\n")
    }

    static func flowMap(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\($0.0): \($0.1)" }.joined(separator: ", ") + "}"
    }

    static func requirementYAML(_ r: TemplateRequirement) -> String {
        var lines = [
            "    - name: \(r.name)",
            "      description: \(quoted(r.description))",
            "      where: \(flowMap(r.selector))",
        ]
        if let n = r.minSamples { lines.append("      min_samples: \(n)") }
        if let s = r.minShare { lines.append("      min_share: \(s)") }
        return lines.joined(separator: "\n")
    }
}

// MARK: - Example content

struct TemplateRequirement {
    var name: String
    var description: String
    var selector: [(String, String)]
    var minSamples: Int?
    var minShare: Double?
}

struct TemplateExampleItem {
    var key: String  // "text" or "sample"
    var value: String
    var why: String
}

struct TemplateLabel {
    var name: String
    var definition: String
    var signs: [String]
    var fit: TemplateExampleItem
    var notFit: TemplateExampleItem
}

struct TemplateMistake {
    var truth: String
    var predicted: String
    var maxRate: Double
    var why: String
}

struct TemplateExample {
    var sourceName: String
    var useCase: String
    var devices: [String]
    var languageStyle: [String]
    var network: String
    var userBehaviour: [String]
    var workflow: String
    var good: [String]
    var bad: [String]
    var messy: [String]
    var rare: [String]
    var labels: [TemplateLabel]
    /// Index into `labels` of the label whose recall matters most.
    var criticalLabel: Int
    var slice: [(String, String)]
    var mistakes: [TemplateMistake]
    var scenarios: [TemplateRequirement]
    var edgeCases: [TemplateRequirement]
    var noise: [TemplateRequirement]
    var doNotLabel: String
    /// The `decision_path` body, indented by two spaces.
    var decisionPath: String
}

extension SpecTemplates {
    static func example(_ modalities: [Modality]) -> TemplateExample {
        if modalities.count > 1 { return fieldReports(modalities) }
        switch modalities.first ?? .text {
        case .text: return supportMessages
        case .image: return shapeCamera
        case .audio: return wakeWord
        }
    }

    static let supportMessages = TemplateExample(
        sourceName: "helpdesk-export",
        useCase: "Route incoming customer support messages to the right team (billing, technical or account) within seconds, so urgent problems do not wait in a shared inbox.",
        devices: ["web chat", "mobile app", "email"],
        languageStyle: ["informal", "short sentences", "typos and abbreviations", "some mixed English and Spanish"],
        network: "runs on the helpdesk server; messages arrive through its API",
        userBehaviour: ["customers write when frustrated", "several problems in one message", "replies to old threads"],
        workflow: "the message lands in the predicted team's queue; agents can move it to another queue",
        good: ["one clear topic: 'I was charged twice for my May invoice'"],
        bad: ["spam and marketing replies", "messages with no text, only an attachment"],
        messy: ["long threads with quoted earlier messages", "typos: 'cant loggin after pasword reset'"],
        rare: ["legal threats or data-deletion requests", "messages in a language other than English or Spanish"],
        labels: [
            TemplateLabel(
                name: "billing", definition: "The customer asks about money: charges, invoices, refunds or plan prices.",
                signs: ["mentions a charge, invoice, refund or card", "quotes an amount"],
                fit: .init(key: "text", value: "Why was I charged $40 twice this month?", why: "a question about a charge"),
                notFit: .init(key: "text", value: "I can't open the invoices page, it shows an error", why: "the page fails to load: a technical problem")),
            TemplateLabel(
                name: "technical", definition: "Something in the product does not work as expected.",
                signs: ["error messages", "crashes", "'does not work', 'stuck', 'slow'"],
                fit: .init(key: "text", value: "The app crashes when I upload a photo", why: "the product fails"),
                notFit: .init(key: "text", value: "How do I change my email address?", why: "a question about the account, nothing is broken")),
            TemplateLabel(
                name: "account", definition: "Access to or details of the customer's account: login, password, email, security.",
                signs: ["login or password", "locked out", "suspicious activity"],
                fit: .init(key: "text", value: "Someone changed my password and I am locked out", why: "access and security of the account"),
                notFit: .init(key: "text", value: "Please cancel my subscription and refund me", why: "about money: billing")),
        ],
        criticalLabel: 2,
        slice: [("channel", "email")],
        mistakes: [
            TemplateMistake(truth: "account", predicted: "billing", maxRate: 0.02,
                            why: "a locked-out customer waits a day in the billing queue"),
        ],
        scenarios: [
            TemplateRequirement(name: "billing_questions", description: "Questions about charges and refunds.",
                                selector: [("label", "billing")], minSamples: nil, minShare: 0.2),
            TemplateRequirement(name: "mobile_app", description: "Messages sent from the mobile app.",
                                selector: [("channel", "mobile_app")], minSamples: 200, minShare: nil),
        ],
        edgeCases: [
            TemplateRequirement(name: "several_topics", description: "One message raising two problems.",
                                selector: [("tag", "multi_topic")], minSamples: 50, minShare: nil),
            TemplateRequirement(name: "spanish", description: "Messages written in Spanish.",
                                selector: [("language", "[es, es-MX]")], minSamples: 100, minShare: nil),
        ],
        noise: [
            TemplateRequirement(name: "auto_replies", description: "Out-of-office and other automatic replies.",
                                selector: [("tag", "auto_reply")], minSamples: 30, minShare: nil),
        ],
        doNotLabel: "messages containing full card numbers or passwords (report them instead)",
        decisionPath: """
              question: "Is the customer asking about money (a charge, invoice, refund or price)?"
              answers:
                - answer: "yes"
                  label: billing
                - answer: "no"
                  next:
                    question: "Is it about logging in, the password, or account security?"
                    answers:
                      - answer: "yes"
                        label: account
                      - answer: "no, something does not work"
                        label: technical
                      - answer: "none of these"
                        skip: "no label fits"
            """)

    static let shapeCamera = TemplateExample(
        sourceName: "line3-camera",
        useCase: "A camera above a conveyor belt classifies each part's shape (circle, square or triangle) so that mis-sorted parts are pushed off the line before packing.",
        devices: ["overhead industrial camera, 1280x1024", "handheld phone camera for spot checks"],
        languageStyle: [],
        network: "runs on an edge box next to the line, without internet",
        userBehaviour: ["operators reposition the camera after cleaning", "parts sometimes overlap on the belt"],
        workflow: "a wrong shape triggers the pusher; operators review pushed parts at the end of the shift",
        good: ["one part, centered, daylight lighting"],
        bad: ["empty belt", "a hand or tool in front of the lens"],
        messy: ["motion blur at full belt speed", "oil smudges on the lens"],
        rare: ["broken parts", "two parts touching"],
        labels: [
            TemplateLabel(
                name: "circle", definition: "The part's outline is round with no corners.",
                signs: ["no straight edges", "same width in every direction"],
                fit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240501_3f9a1c2b7d.png", why: "a round outline seen from above"),
                notFit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240501_8e21d04c6a.png", why: "a square with worn, rounded corners: still four sides")),
            TemplateLabel(
                name: "square", definition: "The part has four equal straight sides.",
                signs: ["four corners", "sides of equal length"],
                fit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240502_c41e9a7f02.png", why: "four equal sides"),
                notFit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240502_5b7d2e1a90.png", why: "a triangle lying next to a square shadow")),
            TemplateLabel(
                name: "triangle", definition: "The part has three straight sides.",
                signs: ["three corners"],
                fit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240503_0a6f3b9c15.png", why: "three sides and three corners"),
                notFit: .init(key: "sample", value: "data/raw/line3-camera/line3-camera_20240503_d29c7e4b88.png", why: "a square seen at an angle")),
        ],
        criticalLabel: 2,
        slice: [("lighting", "night")],
        mistakes: [
            TemplateMistake(truth: "triangle", predicted: "square", maxRate: 0.01,
                            why: "triangles packed as squares jam the packing machine"),
        ],
        scenarios: [
            TemplateRequirement(name: "day_shift", description: "Daylight through the hall windows.",
                                selector: [("lighting", "day")], minSamples: 1000, minShare: nil),
            TemplateRequirement(name: "night_shift", description: "Artificial light only.",
                                selector: [("lighting", "night")], minSamples: 300, minShare: 0.2),
        ],
        edgeCases: [
            TemplateRequirement(name: "partly_hidden", description: "Parts partly covered by another part or a tool.",
                                selector: [("occlusion", "[partial, heavy]")], minSamples: 100, minShare: nil),
        ],
        noise: [
            TemplateRequirement(name: "motion_blur", description: "Blurred by belt movement.",
                                selector: [("blur", "motion")], minSamples: nil, minShare: 0.02),
        ],
        doNotLabel: "images showing a person's face (delete them instead)",
        decisionPath: """
              question: "Is exactly one whole part visible?"
              answers:
                - answer: "no, the belt is empty or the view is blocked"
                  skip: "no part to label"
                - answer: "no, parts overlap"
                  escalate: "overlapping parts"
                - answer: "yes"
                  next:
                    question: "How many corners does the outline have?"
                    answers:
                      - answer: "none"
                        label: circle
                      - answer: "three"
                        label: triangle
                      - answer: "four"
                        label: square
            """)

    static let wakeWord = TemplateExample(
        sourceName: "kitchen-devices",
        useCase: "A kitchen device listens for the wake word 'hey strata' and then waits for a command; it must not wake up on similar words, other speech or TV audio.",
        devices: ["far-field microphone array, 16 kHz", "phone microphone in the companion app"],
        languageStyle: ["casual speech", "regional accents", "children's voices"],
        network: "the keyword model runs on the device; nothing is sent before the wake word",
        userBehaviour: ["speak from across the room", "say the wake word while cooking (noise, running water)"],
        workflow: "a detection opens the microphone for 5 seconds and lights a ring on the device",
        good: ["'hey strata' spoken clearly within 2 meters"],
        bad: ["silence", "recordings clipped so the word is cut off"],
        messy: ["extractor fan or running water behind the voice", "far-field speech with room echo"],
        rare: ["whispered wake word", "two people speaking at once"],
        labels: [
            TemplateLabel(
                name: "keyword", definition: "The clip contains the complete phrase 'hey strata'.",
                signs: ["both words, in order", "ends within the clip"],
                fit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240610_71c0de5a3b.wav", why: "the full phrase, spoken clearly"),
                notFit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240610_b3e8f2091d.wav", why: "'hey sarah': a similar-sounding name")),
            TemplateLabel(
                name: "other_speech", definition: "Someone speaks, but not the wake phrase.",
                signs: ["words are audible", "no 'hey strata'"],
                fit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240611_4d9e6a0c27.wav", why: "a conversation without the phrase"),
                notFit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240611_e50b1f7c94.wav", why: "the phrase said quickly, but completely: keyword")),
            TemplateLabel(
                name: "background", definition: "No speech: only noise, music without lyrics, or silence.",
                signs: ["no words can be made out"],
                fit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240612_92af3d6e51.wav", why: "only an extractor fan"),
                notFit: .init(key: "sample", value: "data/raw/kitchen-devices/kitchen-devices_20240612_0c7b8e2f13.wav", why: "a TV presenter talking: other_speech")),
        ],
        criticalLabel: 0,
        slice: [("distance", "far")],
        mistakes: [
            TemplateMistake(truth: "background", predicted: "keyword", maxRate: 0.005,
                            why: "waking up on noise erodes trust and records private audio"),
            TemplateMistake(truth: "other_speech", predicted: "keyword", maxRate: 0.01,
                            why: "waking up during conversations records private speech"),
        ],
        scenarios: [
            TemplateRequirement(name: "near_field", description: "Spoken within 2 meters.",
                                selector: [("distance", "near")], minSamples: 2000, minShare: nil),
            TemplateRequirement(name: "far_field", description: "Spoken from across the room.",
                                selector: [("distance", "far")], minSamples: 500, minShare: nil),
        ],
        edgeCases: [
            TemplateRequirement(name: "children", description: "Children saying the wake word.",
                                selector: [("speaker_age", "child"), ("label", "keyword")], minSamples: 200, minShare: nil),
        ],
        noise: [
            TemplateRequirement(name: "tv_and_music", description: "A TV or music playing in the background.",
                                selector: [("background", "[tv, music]")], minSamples: nil, minShare: 0.1),
        ],
        doNotLabel: "recordings with names, addresses or other personal details (flag them for deletion)",
        decisionPath: """
              question: "Can you hear anyone speaking?"
              answers:
                - answer: "no"
                  label: background
                - answer: "yes"
                  next:
                    question: "Is the complete phrase 'hey strata' said?"
                    answers:
                      - answer: "yes"
                        label: keyword
                      - answer: "no"
                        label: other_speech
                      - answer: "only part of it, or I cannot tell"
                        escalate: "partial or unclear wake word"
            """)

    static func fieldReports(_ modalities: [Modality]) -> TemplateExample {
        let kinds = modalities.map { m -> String in
            switch m {
            case .text: "written notes"
            case .image: "photos"
            case .audio: "voice memos"
            }
        }
        let kindList = kinds.count == 2 ? kinds.joined(separator: " and ")
            : kinds.dropLast().joined(separator: ", ") + " and " + kinds.last!
        func example(_ m: Modality, _ text: String, _ file: String) -> (String, String) {
            m == .text ? ("text", text) : ("sample", file)
        }
        let first = modalities[0]
        let ext = first == .text ? "txt" : (first == .image ? "jpg" : "wav")
        func path(_ id: String) -> String { "data/raw/inspectors/inspectors_20240402_\(id).\(ext)" }
        let f1 = example(first, "Water is dripping through the ceiling in room 12", path("5e0c7a9d31"))
        let f2 = example(first, "Fire exit on floor 2 is blocked by pallets", path("b81f24e6c0"))
        let f3 = example(first, "Quarterly check of floor 3 done, nothing to report", path("2d7a90c4fe"))
        return TemplateExample(
            sourceName: "inspectors",
            useCase: "Building inspectors send field reports as \(kindList); the model triages each report as damage, safety hazard or routine so that hazards reach the safety team the same day.",
            devices: ["inspectors' phones", "tablet app"],
            languageStyle: ["short notes", "building jargon"],
            network: "reports upload when the phone is back online; the model runs on the server",
            userBehaviour: ["reports are made in a hurry on site", "one report may show several problems"],
            workflow: "hazards page the safety team; damage opens a repair ticket; routine reports are archived",
            good: ["one report clearly showing one problem"],
            bad: ["empty or accidental reports"],
            messy: ["dark or blurred photos", "wind noise in voice memos", "notes full of abbreviations"],
            rare: ["reports from other companies' buildings"],
            labels: [
                TemplateLabel(
                    name: "damage", definition: "The report shows damage to the building that needs a repair.",
                    signs: ["leaks", "cracks", "broken fittings"],
                    fit: .init(key: f1.0, value: f1.1, why: "a leak that needs a repair"),
                    notFit: .init(key: f2.0, value: f2.1, why: "a danger to people: safety_hazard")),
                TemplateLabel(
                    name: "safety_hazard", definition: "The report shows something that can hurt people now.",
                    signs: ["blocked exits", "exposed wiring", "missing railings"],
                    fit: .init(key: f2.0, value: f2.1, why: "a blocked fire exit endangers people"),
                    notFit: .init(key: f1.0, value: f1.1, why: "damage, no immediate danger")),
                TemplateLabel(
                    name: "routine", definition: "A check with nothing to fix.",
                    signs: ["'all fine', 'checked', no problem shown"],
                    fit: .init(key: f3.0, value: f3.1, why: "nothing to act on"),
                    notFit: .init(key: f1.0, value: f1.1, why: "a problem is reported")),
            ],
            criticalLabel: 1,
            slice: [("modality", modalities[modalities.count - 1].rawValue)],
            mistakes: [
                TemplateMistake(truth: "safety_hazard", predicted: "routine", maxRate: 0.01,
                                why: "an archived hazard can hurt someone"),
            ],
            scenarios: modalities.map { m in
                TemplateRequirement(name: "\(m.rawValue)_reports", description: "Reports sent as \(m.rawValue).",
                                    selector: [("modality", m.rawValue)], minSamples: 300, minShare: nil)
            },
            edgeCases: [
                TemplateRequirement(name: "hazards", description: "Enough hazards to measure their recall.",
                                    selector: [("label", "safety_hazard")], minSamples: 100, minShare: 0.1),
            ],
            noise: [
                TemplateRequirement(name: "poor_conditions", description: "Reports made in the dark, in wind or in a hurry.",
                                    selector: [("condition", "[dark, windy, rushed]")], minSamples: 50, minShare: nil),
            ],
            doNotLabel: "reports showing people's faces or private documents (flag them for deletion)",
            decisionPath: """
                  question: "Could what the report shows hurt someone now?"
                  answers:
                    - answer: "yes"
                      label: safety_hazard
                    - answer: "no"
                      next:
                        question: "Does something need to be repaired?"
                        answers:
                          - answer: "yes"
                            label: damage
                          - answer: "no"
                            label: routine
                    - answer: "the report is empty or unreadable"
                      skip: "nothing to judge"
                """)
    }
}
