import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Strata

extension LabelServer {
    func addAPI(_ router: Router<LabelContext>) {
        router.get("/api/me") { _, context -> Response in
            let t = try self.require(context, .tasker)
            var out: [String: Any] = ["name": t.name, "role": t.role.rawValue]
            if let c = context.identity?.csrf { out["csrf"] = c }
            return JSONOut.response(out)
        }

        router.get("/api/rulebook") { _, context -> Response in
            _ = try self.require(context, .tasker)
            return JSONOut.response(RulebookJSON.rulebook(self.desk.rulebook, version: self.desk.rulebookVersion))
        }

        router.get("/api/queue/next") { _, context -> Response in
            let t = try self.require(context, .tasker)
            guard let item = try await self.desk.next(for: t) else {
                return JSONOut.response(["sample": NSNull(), "message": "your queue is empty: every sample has its annotators",
                                         "labels": self.desk.rulebook.labels.map(\.name)])
            }
            return JSONOut.response(bytes: self.queueJSONText(item))
        }

        router.post("/api/labels") { request, context -> Response in
            let t = try self.require(context, .tasker)
            let answer = try Self.answer(from: try await Self.jsonObject(request, context))
            let id = try await Self.mapQueueError { try await self.desk.submit(answer, by: t) }
            return JSONOut.response(bytes: Self.eventJSONText(id: id, answer, annotator: t.name), status: .created)
        }

        router.get("/api/labels") { request, context -> Response in
            let t = try self.require(context, .tasker)
            var who = t
            if let name = request.uri.queryParameters["annotator"].map(String.init), name != t.name {
                guard t.role >= .reviewer else {
                    throw APIError(.forbidden, "a tasker sees only their own labels", field: "annotator")
                }
                guard let other = try self.desk.workspace.taskers().first(where: { $0.name == name }) else {
                    throw APIError(.notFound, "no tasker \(name)", field: "annotator")
                }
                who = other
            }
            let events = try self.desk.answers(of: who)
            return JSONOut.response(["annotator": who.name, "labels": events.map(Self.labelJSON)])
        }

        router.get("/api/samples/:id/content") { _, context -> Response in
            let t = try self.require(context, .tasker)
            let id = context.parameters.get("id") ?? ""
            guard let (bytes, type) = try self.desk.content(sampleId: id, for: t) else {
                throw APIError(.notFound, "no sample \(id) in your queue")
            }
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "private, max-age=3600"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }

        router.get("/api/review/queue") { _, context -> Response in
            _ = try self.require(context, .reviewer)
            let items = try self.desk.reviewQueue()
            return JSONOut.response(["items": items.map(Self.reviewJSON)])
        }

        router.post("/api/review/decisions") { request, context -> Response in
            let t = try self.require(context, .reviewer)
            let answer = try Self.answer(from: try await Self.jsonObject(request, context))
            let id = try await Self.mapQueueError { try await self.desk.adjudicate(answer, by: t) }
            return JSONOut.response(self.eventJSON(id: id, answer, annotator: t.name), status: .created)
        }

        router.get("/api/admin/progress") { _, context -> Response in
            _ = try self.require(context, .admin)
            return JSONOut.response(Self.progressJSON(try self.desk.progress()))
        }

        router.get("/api/admin/taskers") { _, context -> Response in
            _ = try self.require(context, .admin)
            let list = try self.desk.workspace.taskers().map { ["name": $0.name, "role": $0.role.rawValue, "createdAt": $0.createdAt] }
            return JSONOut.response(["taskers": list])
        }
    }

    func queueJSON(_ item: LabelDesk.QueueItem) -> [String: Any] {
        var sample: [String: Any] = [
            "id": item.sampleId, "shortId": item.shortId, "modality": item.modality, "format": item.format,
            "contentUrl": item.contentURL, "mediaType": item.mediaType,
        ]
        if let text = item.text { sample["text"] = text }
        return [
            "sample": sample,
            "labels": RulebookJSON.labels(desk.rulebook),
            "rulebookVersion": desk.rulebookVersion,
            "progress": ["done": item.done, "remaining": item.remaining],
        ]
    }

    /// `queueJSON` written directly (the hot path; same keys and values).
    func queueJSONText(_ item: LabelDesk.QueueItem) -> [UInt8] {
        var j = JSONText(capacity: 1024 + (item.text?.utf8.count ?? 0))
        j.beginObject()
        j.field("labels", raw: labelsJSON)
        j.key("progress"); j.beginObject(); j.field("done", item.done); j.field("remaining", item.remaining); j.endObject()
        j.field("rulebookVersion", desk.rulebookVersion)
        j.key("sample"); j.beginObject()
        j.field("contentUrl", item.contentURL); j.field("format", item.format); j.field("id", item.sampleId)
        j.field("mediaType", item.mediaType); j.field("modality", item.modality); j.field("shortId", item.shortId)
        if let text = item.text { j.field("text", text) }
        j.endObject()
        j.endObject()
        return j.bytes
    }

    /// `eventJSON` written directly (the hot path; same keys and values).
    static func eventJSONText(id: Int64, _ a: LabelDesk.Answer, annotator: String) -> [UInt8] {
        var j = JSONText(capacity: 256)
        j.beginObject()
        j.field("annotator", annotator); j.field("durable", true); j.field("id", id)
        if let r = a.reason { j.field("reason", r) }
        j.field("sample", a.sampleId); j.field("status", a.kind.rawValue)
        if let v = a.value { j.field("value", v) }
        j.endObject()
        return j.bytes
    }

    func eventJSON(id: Int64, _ a: LabelDesk.Answer, annotator: String) -> [String: Any] {
        var out: [String: Any] = ["id": id, "sample": a.sampleId, "status": a.kind.rawValue, "annotator": annotator, "durable": true]
        if let v = a.value { out["value"] = v }
        if let r = a.reason { out["reason"] = r }
        return out
    }

    static func labelJSON(_ e: LabelDesk.OwnAnswer) -> [String: Any] {
        var out: [String: Any] = ["id": e.id, "sample": e.sampleId, "status": e.status, "createdAt": e.createdAt]
        if let v = e.value { out["value"] = v }
        if let r = e.reason { out["reason"] = r }
        return out
    }

    static func reviewJSON(_ i: LabelDesk.ReviewItem) -> [String: Any] {
        var out: [String: Any] = [
            "sample": i.sampleId, "shortId": i.shortId, "modality": i.modality, "contentUrl": i.contentURL, "mediaType": i.mediaType,
            "answers": i.answers.map { a -> [String: Any] in
                var g: [String: Any] = ["annotator": a.annotator, "status": a.status]
                if let v = a.value { g["value"] = v }
                if let r = a.reason { g["reason"] = r }
                return g
            },
        ]
        if let t = i.text { out["text"] = t }
        if let w = i.why { out["why"] = w }
        return out
    }

    static func progressJSON(_ p: LabelDesk.Progress) -> [String: Any] {
        func opt(_ d: Double?) -> Any { d.map { ($0 * 1000).rounded() / 1000 } ?? NSNull() }
        return [
            "samples": p.samples, "samplesWithAllAnnotators": p.samplesWithAllAnswers, "openAssignments": p.openAssignments,
            "answers": p.answers, "awaitingReview": p.awaitingReview, "annotatorsPerSample": p.annotatorsPerSample,
            "goldRate": p.goldRate, "agreementThreshold": p.agreementThreshold,
            "percentAgreement": opt(p.percentAgreement), "fleissKappa": opt(p.fleissKappa),
            "krippendorffAlpha": opt(p.krippendorffAlpha), "meanCohenKappa": opt(p.meanCohenKappa),
            "labelsBelowThreshold": p.labelsBelowThreshold,
            "annotators": p.annotators.map { a -> [String: Any] in
                [
                    "name": a.name, "role": a.role, "answers": a.answers, "skipped": a.skipped, "unclear": a.unclear,
                    "goldAnswered": a.goldAnswered, "goldCorrect": a.goldCorrect, "goldAccuracy": opt(a.goldAccuracy),
                    "agreement": opt(a.agreement), "meanCohenKappa": opt(a.meanCohenKappa),
                ]
            },
        ]
    }
}
