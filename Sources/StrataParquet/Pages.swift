import CSnappy
import CZstd
import Foundation

/// The bytes of one page, in a malloc'd buffer.
///
/// A data page is encoded straight into it: its values go after `front` bytes kept free for the definition
/// levels, which are known only when the page is closed and are then written just before the values (so the
/// values are never moved). `start..<end` is the page body.
final class PageBuffer: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var start: Int
    var end: Int

    init(capacity: Int, front: Int) {
        self.capacity = max(capacity, front + 256)
        base = malloc(self.capacity)!
        start = front
        end = front
    }

    /// An exact-size copy of `count` bytes (a compressed page).
    init(copying p: UnsafeRawPointer, count: Int) {
        capacity = max(count, 1)
        base = malloc(capacity)!
        if count > 0 { memcpy(base, p, count) }
        start = 0
        end = count
    }

    deinit { free(base) }

    var count: Int { end - start }
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: end - start) }

    func reset(front: Int) {
        start = front
        end = front
    }

    @inline(__always) func reserve(_ n: Int) {
        if end + n > capacity { grow(end + n) }
    }

    private func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        base = realloc(base, c)!
        capacity = c
    }

    @inline(__always) func append(_ p: UnsafeRawPointer, _ n: Int) {
        reserve(n)
        if n > 0 { memcpy(base + end, p, n) }
        end += n
    }

    @inline(__always) func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { if let b = $0.baseAddress { append(b, $0.count) } }
    }

    @inline(__always) func appendByte(_ v: UInt8) {
        reserve(1)
        base.storeBytes(of: v, toByteOffset: end, as: UInt8.self)
        end += 1
    }

    @inline(__always) func appendLE<T: FixedWidthInteger>(_ v: T) {
        reserve(MemoryLayout<T>.size)
        base.storeBytes(of: v.littleEndian, toByteOffset: end, as: T.self)
        end += MemoryLayout<T>.size
    }

    /// Writes `levels` (with their 4-byte length) just before the body; moves the whole body only if the
    /// room in front is too small (it is sized so that this does not happen).
    func prepend(levels: [UInt8]) {
        let need = 4 + levels.count
        if need > start {
            let body = count
            reserve(need - start)
            memmove(base + need, base + start, body)
            start = need
            end = need + body
        }
        start -= need
        base.storeBytes(of: UInt32(levels.count).littleEndian, toByteOffset: start, as: UInt32.self)
        levels.withUnsafeBytes { if let b = $0.baseAddress { memcpy(base + start + 4, b, $0.count) } }
    }
}

/// One page of a column chunk: what its header says, and its bytes once compressed.
final class PageSlot: @unchecked Sendable {
    /// Rows in a data page (values including nulls), or entries in a dictionary page.
    let values: Int
    let encoding: Int32
    let isDictionary: Bool
    let uncompressedSize: Int
    /// Set by the compressing worker before it leaves the compressor's group; read after `wait()`.
    var stored: PageBuffer?

    init(values: Int, encoding: Int32, isDictionary: Bool, uncompressedSize: Int) {
        self.values = values
        self.encoding = encoding
        self.isDictionary = isDictionary
        self.uncompressedSize = uncompressedSize
    }
}

/// Compresses each page as soon as it is closed, on worker threads (at most `2 * threads` pages in flight; the
/// encoding thread waits when that many are), with one reused Zstandard context and output buffer per worker.
/// Page buffers come back to a small pool once compressed.
final class PageCompressor: @unchecked Sendable {
    let compression: ParquetCompression
    let threads: Int
    private let pageCapacity: Int
    private let lock = NSLock()
    private let group = DispatchGroup()
    private let inFlight: DispatchSemaphore
    private var scratches: [Scratch] = []
    private var pool: [PageBuffer] = []
    private var failure: ParquetError?

    /// A worker's reusable state: a Zstandard context and an output buffer.
    final class Scratch {
        var zstd: OpaquePointer?
        var out: UnsafeMutableRawPointer?
        var capacity = 0
        deinit {
            if let zstd { ZSTD_freeCCtx(zstd) }
            free(out)
        }
    }

    init(compression: ParquetCompression, threads: Int, pageCapacity: Int) {
        self.compression = compression
        self.threads = threads
        self.pageCapacity = pageCapacity
        inFlight = DispatchSemaphore(value: 2 * threads)
    }

    /// A buffer for the next page (from the pool when one is free).
    func takeBuffer(front: Int) -> PageBuffer {
        lock.lock()
        let b = pool.popLast()
        lock.unlock()
        guard let b else { return PageBuffer(capacity: front + pageCapacity, front: front) }
        b.reset(front: front)
        return b
    }

    private func recycle(_ b: PageBuffer) {
        lock.lock()
        if pool.count < 2 * threads + 8 { pool.append(b) }
        lock.unlock()
    }

    /// Hands a closed page over: its bytes end up in `slot.stored`. The caller must not touch `page` again.
    func submit(_ page: PageBuffer, _ slot: PageSlot) {
        if case .uncompressed = compression {
            slot.stored = page
            return
        }
        if threads <= 1 {
            run(page, slot)
            return
        }
        inFlight.wait()
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            self.run(page, slot)
            self.inFlight.signal()
            self.group.leave()
        }
    }

    /// Waits for every submitted page; throws the first compression failure.
    func wait() throws {
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }

    private func run(_ page: PageBuffer, _ slot: PageSlot) {
        lock.lock()
        let scratch = scratches.popLast() ?? Scratch()
        lock.unlock()
        do {
            slot.stored = try compress(page.bytes, scratch)
        } catch let e as ParquetError {
            lock.lock()
            if failure == nil { failure = e }
            lock.unlock()
        } catch {}
        lock.lock()
        scratches.append(scratch)
        lock.unlock()
        recycle(page)
    }

    private func compress(_ input: UnsafeRawBufferPointer, _ s: Scratch) throws -> PageBuffer {
        let n = input.count
        let src = input.baseAddress ?? UnsafeRawPointer(s.out ?? UnsafeMutableRawPointer(bitPattern: 16)!)
        let bound: Int
        switch compression {
        case .uncompressed: return PageBuffer(copying: src, count: n)
        case .snappy: bound = snappy_max_compressed_length(n)
        case .zstd: bound = ZSTD_compressBound(n)
        }
        if s.capacity < bound {
            free(s.out)
            s.capacity = max(bound, 1 << 16)
            s.out = malloc(s.capacity)
        }
        let dst = s.out!
        switch compression {
        case .uncompressed:
            fatalError("unreachable")
        case .snappy:
            var length = s.capacity
            let status = snappy_compress(src.assumingMemoryBound(to: CChar.self), n, dst.assumingMemoryBound(to: CChar.self), &length)
            guard status == SNAPPY_OK else { throw ParquetError("snappy compression failed (status \(status.rawValue))") }
            return PageBuffer(copying: dst, count: length)
        case .zstd(let level):
            if s.zstd == nil { s.zstd = ZSTD_createCCtx() }
            let code = ZSTD_compressCCtx(s.zstd, dst, s.capacity, src, n, level)
            if ZSTD_isError(code) != 0 {
                throw ParquetError("zstd compression failed: \(String(cString: ZSTD_getErrorName(code)))")
            }
            return PageBuffer(copying: dst, count: code)
        }
    }
}
