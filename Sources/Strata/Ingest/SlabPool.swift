import Dispatch
import StrataCore

/// A reusable buffer for the small files of one batch. Reading each file into an array of its own made the heap
/// grow batch after batch (glibc did not reuse the freed arrays, so every batch touched fresh pages: a page fault
/// per 4 KiB, 12% of the CPU of an ingest of 100,000 small files); a few slabs reused across batches do not.
final class ContentSlab: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init() {
        capacity = 1 << 16
        base = .allocate(byteCount: capacity, alignment: 64)
    }

    /// Makes room for `bytes` (the old contents are not kept).
    func reserve(_ bytes: Int) {
        guard bytes > capacity else { return }
        base.deallocate()
        capacity = max(bytes, capacity * 2)
        base = .allocate(byteCount: capacity, alignment: 64)
    }

    deinit { base.deallocate() }
}

/// A fixed set of slabs; `take` waits until one is free.
final class SlabPool: Sendable {
    private let free: Locked<[ContentSlab]>
    private let available: DispatchSemaphore

    init(count: Int) {
        free = Locked((0..<count).map { _ in ContentSlab() })
        available = DispatchSemaphore(value: count)
    }

    func take() -> ContentSlab {
        available.wait()
        return free.withLock { $0.removeLast() }
    }

    func give(_ slab: ContentSlab) {
        free.withLock { $0.append(slab) }
        available.signal()
    }
}
