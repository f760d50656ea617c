import Dispatch
import Synchronization

// The project's one set of concurrency helpers. Every module that runs work on several threads uses these
// instead of a lock-protected class of its own. They are built on the standard library's `Mutex`, so the
// compiler checks their sendability; `Unchecked` is the one escape hatch, for raw buffers whose slots are
// written by disjoint workers.

/// A value behind a mutex.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<R: Sendable>(_ body: (inout Value) throws -> R) rethrows -> R {
        try mutex.withLock { value in try body(&value) }
    }
    public var value: Value { mutex.withLock { $0 } }
}

/// One value per slot, filled by concurrent workers and read in order once they are done.
public final class Slots<T: Sendable>: Sendable {
    private let slots: Mutex<[T?]>
    public init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    public func set(_ i: Int, _ value: T) { slots.withLock { $0[i] = value } }
    /// The value of slot `i`; the slot must have been filled.
    public func get(_ i: Int) -> T { slots.withLock { $0[i]! } }
    /// The value of slot `i`, emptying the slot (frees large buffers as they are consumed).
    public func take(_ i: Int) -> T { slots.withLock { s in defer { s[i] = nil }; return s[i]! } }
}

/// The first error of concurrent workers; later ones are dropped.
public final class FirstError: Sendable {
    private let first = Mutex<(any Error)?>(nil)
    public init() {}
    public func set(_ error: any Error) { first.withLock { if $0 == nil { $0 = error } } }
    public var error: (any Error)? { first.withLock { $0 } }
    /// The error, clearing it.
    public func take() -> (any Error)? { first.withLock { e in defer { e = nil }; return e } }
}

/// Wraps a value that is shared across threads under a discipline the compiler cannot see (disjoint slots of a
/// buffer, a value read only after the workers are joined). Use it only for that; prefer `Locked` and `Slots`.
public struct Unchecked<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

/// Maps `body` over `items` on `workers` threads, keeping the order.
public func parallelMap<T: Sendable, R: Sendable>(_ items: [T], workers: Int, _ body: @Sendable (T) -> R) -> [R] {
    if items.isEmpty { return [] }
    if workers <= 1 || items.count == 1 { return items.map(body) }
    let results = UnsafeMutableBufferPointer<R?>.allocate(capacity: items.count)
    results.initialize(repeating: nil)
    defer { results.deallocate() }
    let box = Unchecked(results)
    let chunks = min(items.count, workers * 4)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        var i = c
        while i < items.count {
            box.value[i] = body(items[i])
            i += chunks
        }
    }
    return results.map { $0! }
}
