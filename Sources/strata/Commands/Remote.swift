import ArgumentParser
import Foundation
import Strata

extension StrataCommand {
    struct Remote: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remotes: where push, pull, fetch and clone send and fetch versions.",
            discussion: """
                URLs: file:///path (a shared disk), s3://bucket/prefix (endpoint, region and keys from AWS_ENDPOINT_URL,
                AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or ~/.aws), ssh://user@host/path (the
                system's ssh with your keys). Only names and URLs are stored in the project (.strata/remotes.json).
                Examples:
                  strata remote add team s3://ml-data/strata/support --default
                  strata remote list
                """,
            subcommands: [Add.self, List.self, Remove.self, Show.self, GC.self],
            defaultSubcommand: List.self)

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a remote.")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The remote's name.") var name: String
            @Argument(help: "file:///path, s3://bucket/prefix or ssh://user@host/path") var url: String
            @Flag(help: "Make it the default remote (the first remote added is the default).") var `default` = false

            func run() throws {
                let r = try options.open().remoteAdd(name: name, url: url, makeDefault: `default`)
                if options.json { return try Terminal.printJSON(r) }
                print("added remote \(r.name) \(r.url)\(r.isDefault ? " (default)" : "")")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List remotes.")
            @OptionGroup var options: ProjectOptions
            func run() throws {
                let list = try options.open().remoteList()
                if options.json { return try Terminal.printJSON(list) }
                if list.isEmpty { print("no remotes: `strata remote add NAME URL` adds one"); return }
                for r in list { print("\(r.name)\t\(r.url)\(r.isDefault ? "\t(default)" : "")") }
            }
        }

        struct Remove: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Forget a remote (nothing on the remote is touched).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The remote's name.") var name: String
            func run() throws {
                try options.open().remoteRemove(name: name)
                if options.json { return try Terminal.printJSON(["removed": name]) }
                print("removed remote \(name)")
            }
        }

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a remote and the versions it holds (reads the remote).")
            @OptionGroup var options: ProjectOptions
            @Argument(help: "The remote's name (default: the default remote).") var name: String?
            func run() throws {
                let ws = try options.open()
                let r = try ws.remote(name)
                let f = try ws.fetch(remoteName: r.name)
                if options.json { return try Terminal.printJSON(f) }
                print("\(r.name)\t\(r.url)\(r.isDefault ? "\t(default)" : "")")
                printRemoteVersions(f)
            }
        }
    }

    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove from a remote what no version on it references (--dry-run prints the same plan and removes nothing).",
            discussion: """
                Removed: packs none of whose objects a version references (index first, then pack), packs without an
                index (left by a killed push) and unreferenced loose objects, each only when written more than the
                grace period ago: a push still running has objects on the remote before its version record.
                """)
        @OptionGroup var options: ProjectOptions
        @Argument(help: "The remote's name (default: the default remote).") var name: String?
        @Flag(help: "Only report; nothing is removed.") var dryRun = false
        @Option(help: "Keep what was written less than this many hours ago (default 24).") var graceHours: Double = Workspace.remoteGCGraceHours

        func run() throws {
            let r = try options.open().remoteGC(remoteName: name, dryRun: dryRun, graceHours: graceHours)
            if options.json { return try Terminal.printJSON(r) }
            print("\(r.remote): \(r.versions) versions")
            print("unreferenced packs: \(r.unreferencedPacks.count) (\(r.bytes) bytes)")
            for p in r.unreferencedPacks { print("  \(p)") }
            print("packs without an index (a killed push): \(r.packsWithoutIndex.count)")
            for p in r.packsWithoutIndex { print("  \(p)") }
            print("unreferenced loose objects: \(r.unreferencedLooseObjects.count)")
            for p in r.unreferencedLooseObjects { print("  \(p)") }
            print("unreferenced bytes inside kept packs: \(r.unreferencedBytesInKeptPacks)")
            print("kept, written in the last \(String(format: "%g", r.graceHours)) hours (a push may still need them): \(r.keptRecent)")
            print(r.dryRun ? "nothing was removed (dry run)" : "removed \(r.removed) keys")
        }
    }

    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send versions (objects, manifests, specs, samples, label events, findings) to a remote; only what it lacks.",
            discussion: """
                With no VERSION, every active and retired version is pushed. Small objects travel in packs; every
                object is hashed before it leaves and checked on arrival. A killed push resumes where it stopped.
                A version name that already points at another version on the remote is reported, never overwritten.
                """)
        @OptionGroup var options: ProjectOptions
        @Option(name: .shortAndLong, help: "The remote (default: the default remote).") var remote: String?
        @Argument(help: "Versions to push (names or id prefixes).") var versions: [String] = []
        @Option(help: "Requests in flight at once (default 8, or STRATA_REMOTE_JOBS).") var jobs: Int?

        func run() throws {
            let r = try options.open().push(remoteName: remote, versions: versions, jobs: jobs)
            if options.json { try Terminal.printJSON(r) } else {
                print("pushed \(r.versions.joined(separator: ", ")) to \(r.remote)")
                print("objects: \(r.objectsUploaded) sent in \(r.packsUploaded) packs and \(r.objectsUploaded - r.packsObjects) loose, \(r.objectsAlreadyThere) already there")
                print("bytes:   \(r.bytesUploaded)")
                note("\(r.bytesUploaded) bytes in \(String(format: "%.1f", r.seconds)) s (\(rate(r.bytesUploaded, r.seconds)))")
                print("labels:  \(r.labelEventsUploaded) new events")
                for c in r.conflicts { print("conflict: \(c)") }
            }
            if !r.conflicts.isEmpty {
                if !options.json {
                    Terminal.error("\(r.conflicts.count) version name(s) already point at other versions on \(r.remote); nothing was overwritten\n  fix: rename the version here (`strata version create NEW-NAME`) or pull the remote's")
                }
                throw ExitCode(1)
            }
        }
    }

    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fetch a version's data from a remote: exactly the splits and modalities asked for.",
            discussion: """
                Examples:
                  strata pull v3                     the whole version
                  strata pull v3 --split train       only the train split's content (all of its metadata)
                """)
        @OptionGroup var options: ProjectOptions
        @Option(name: .shortAndLong, help: "The remote (default: the default remote).") var remote: String?
        @Argument(help: "A version name or id prefix on the remote.") var version: String
        @Option(name: .customLong("split"), help: "Only this split's content (repeatable).") var splits: [String] = []
        @Option(name: .customLong("modality"), help: "Only this modality's content (repeatable).") var modalities: [String] = []
        @Option(help: "Requests in flight at once (default 8, or STRATA_REMOTE_JOBS).") var jobs: Int?

        func run() throws {
            let r = try options.open().pull(remoteName: remote, version: version, splits: splits, modalities: modalities, jobs: jobs)
            if options.json { return try Terminal.printJSON(r) }
            printPull(r)
        }
    }

    struct Fetch: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Read a remote's versions and merge its label events and findings (metadata only, no data).")
        @OptionGroup var options: ProjectOptions
        @Option(name: .shortAndLong, help: "The remote (default: the default remote).") var remote: String?
        func run() throws {
            let f = try options.open().fetch(remoteName: remote)
            if options.json { return try Terminal.printJSON(f) }
            print("fetched \(f.remote): \(f.versions.count) versions, \(f.labelEventsAdded) new label events")
            printRemoteVersions(f)
        }
    }

    struct Clone: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new project from a remote's version (default: its newest).")
        @Argument(help: "file:///path, s3://bucket/prefix or ssh://user@host/path") var url: String
        @Argument(help: "The new project's folder (default: the last part of the URL).") var dir: String?
        @Option(help: "The version to check out (default: the newest on the remote).") var version: String?
        @Option(name: .customLong("split"), help: "Only this split's content (repeatable; `strata pull` fetches more later).") var splits: [String] = []
        @Option(name: .customLong("modality"), help: "Only this modality's content (repeatable).") var modalities: [String] = []
        @Option(help: "Requests in flight at once (default 8, or STRATA_REMOTE_JOBS).") var jobs: Int?
        @Flag(help: "Print machine-readable JSON on stdout instead of text.") var json = false

        func run() throws {
            let folder = dir ?? (url.split(separator: "/").last.map(String.init) ?? "strata-clone")
            let (ws, r) = try Workspace.clone(url: url, into: folder, version: version, splits: splits, modalities: modalities, jobs: jobs, progress: json ? SilentProgress() : TerminalProgress())
            if json { return try Terminal.printJSON(r) }
            print("cloned \(url) into \(ws.root)")
            printPull(r)
        }
    }
}

func printRemoteVersions(_ f: FetchResult) {
    for v in f.versions {
        print("\(v.name)\t\(v.id.prefix(12))\t\(v.state)\t\(v.samples) samples\t\(v.local ? "here" : "not pulled")")
    }
}

func printPull(_ r: PullResult) {
    print("pulled \(r.version) \(r.versionId.prefix(12)) from \(r.remote): \(r.selected) of \(r.members) samples")
    print("objects: \(r.objectsDownloaded) downloaded, \(r.objectsAlreadyHere) already here")
    print("bytes:   \(r.bytesDownloaded)")
    note("\(r.bytesDownloaded) bytes in \(String(format: "%.1f", r.seconds)) s (\(rate(r.bytesDownloaded, r.seconds)))")
    print("labels:  \(r.labelEventsAdded) new events")
}

func rate(_ bytes: Int, _ seconds: Double) -> String {
    String(format: "%.1f MiB/s", Double(bytes) / 1_048_576 / max(seconds, 0.001))
}

/// A line for the user on stderr (timings vary from run to run; stdout stays the same for the same work).
func note(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
