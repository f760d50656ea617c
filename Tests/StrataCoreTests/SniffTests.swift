import XCTest
@testable import StrataCore

final class SniffTests: XCTestCase {
    private func sniff(_ bytes: [UInt8], total: Int? = nil) -> SniffResult {
        Sniffer.sniff(prefix: bytes, totalSize: total ?? bytes.count)
    }

    private func padded(_ head: [UInt8], to n: Int = 64) -> [UInt8] {
        head + [UInt8](repeating: 0, count: max(0, n - head.count))
    }

    private func ascii(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    func testImageMagicBytes() {
        XCTAssertEqual(sniff(padded([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])), .media(.png))
        XCTAssertEqual(sniff(padded([0xFF, 0xD8, 0xFF, 0xE0])), .media(.jpeg))
        XCTAssertEqual(sniff(padded(ascii("GIF87a"))), .media(.gif))
        XCTAssertEqual(sniff(padded(ascii("GIF89a"))), .media(.gif))
        XCTAssertEqual(sniff(padded(ascii("RIFF") + le32(1000) + ascii("WEBPVP8 "))), .media(.webp))
        XCTAssertEqual(sniff(padded([0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0])), .media(.tiff))
        XCTAssertEqual(sniff(padded([0x4D, 0x4D, 0x00, 0x2A, 0, 0, 0, 8])), .media(.tiff))
        // BMP: "BM", file size, reserved, pixel offset 54, BITMAPINFOHEADER (40).
        let bmp = ascii("BM") + le32(70) + [0, 0, 0, 0] + le32(54) + le32(40) + le32(2) + le32(2)
        XCTAssertEqual(sniff(padded(bmp)), .media(.bmp))
    }

    func testBMWithoutPlausibleHeaderIsText() {
        XCTAssertEqual(sniff(ascii("BMW drivers are a small sample of the population.\n")), .text)
    }

    func testAudioMagicBytes() {
        XCTAssertEqual(sniff(padded(ascii("RIFF") + le32(1000) + ascii("WAVEfmt "))), .media(.wav))
        XCTAssertEqual(sniff(padded(ascii("fLaC") + [0, 0, 0, 34])), .media(.flac))
        XCTAssertEqual(sniff(padded(ascii("OggS") + [0, 2])), .media(.ogg))
        XCTAssertEqual(sniff(padded(ascii("FORM") + [0, 0, 1, 0] + ascii("AIFFCOMM"))), .media(.aiff))
        XCTAssertEqual(sniff(padded(ascii("FORM") + [0, 0, 1, 0] + ascii("AIFCFVER"))), .media(.aiff))
        // MP3 with an ID3v2 tag, and a bare MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz).
        XCTAssertEqual(sniff(padded(ascii("ID3") + [3, 0, 0, 0, 0, 0, 10])), .media(.mp3))
        XCTAssertEqual(sniff(padded([0xFF, 0xFB, 0x90, 0x64])), .media(.mp3))
        // MPEG-2 Layer III (FF F3).
        XCTAssertEqual(sniff(padded([0xFF, 0xF3, 0x48, 0xC4])), .media(.mp3))
        // FLAC behind an ID3 tag is still FLAC.
        XCTAssertEqual(sniff(padded(ascii("ID3") + [4, 0, 0, 0, 0, 0, 2] + [0, 0] + ascii("fLaC"))), .media(.flac))
    }

    func testInvalidMPEGSyncIsNotMP3() {
        // AAC ADTS (layer bits 00) and a reserved sample rate are not MP3.
        XCTAssertNotEqual(sniff(padded([0xFF, 0xF1, 0x50, 0x80])), .media(.mp3))
        XCTAssertNotEqual(sniff(padded([0xFF, 0xFB, 0x9C, 0x64])), .media(.mp3))
        XCTAssertEqual(sniff(padded([0xFF, 0xFB, 0xF0, 0x64])), .notMedia("binary data"))
    }

    func testNotMedia() {
        XCTAssertEqual(sniff(padded([0x1F, 0x8B, 0x08, 0x00])), .notMedia("gzip archive"))
        XCTAssertEqual(sniff(padded(ascii("PK\u{03}\u{04}"))), .notMedia("ZIP archive"))
        XCTAssertEqual(sniff(ascii("%PDF-1.7\n%âãÏÓ\n")), .notMedia("PDF document"))
        XCTAssertEqual(sniff(padded([0x7F, 0x45, 0x4C, 0x46, 2, 1, 1])), .notMedia("ELF binary"))
        XCTAssertEqual(sniff(padded([0x28, 0xB5, 0x2F, 0xFD])), .notMedia("zstd archive"))
        XCTAssertEqual(sniff([0x00, 0x01, 0x02, 0x03, 0xFF, 0x00]), .notMedia("binary data"))
    }

    func testGzipNamedJSONLIsNotText() {
        // The extension says .jsonl; the content says gzip. Content wins.
        let gz: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xAB, 0x56, 0xCA]
        XCTAssertEqual(sniff(gz), .notMedia("gzip archive"))
    }

    func testHTMLIsTextButDetectable() {
        let pages = ["<!DOCTYPE html>\n<html><body>hi</body></html>",
                     "  \n<HTML lang=\"en\">\n<head>",
                     "\u{FEFF}<!doctype HTML>",
                     "<!-- saved from url=(0014)about:internet -->\n<html>"]
        for page in pages {
            XCTAssertEqual(sniff(ascii(page)), .text, page)
            XCTAssertTrue(Sniffer.looksLikeHTML(prefix: ascii(page)), page)
        }
        for text in ["hello <html> world", "<htmlish>", "{\"html\": \"<html>\"}", ""] {
            XCTAssertFalse(Sniffer.looksLikeHTML(prefix: ascii(text)), text)
        }
    }

    func testUTF16() {
        let le: [UInt8] = [0xFF, 0xFE] + Array("hello, world".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let be: [UInt8] = [0xFE, 0xFF] + Array("hello, world".utf16.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
        let noBOM: [UInt8] = Array("plain ascii in utf-16".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        XCTAssertEqual(sniff(le), .notMedia("UTF-16 text"))
        XCTAssertEqual(sniff(be), .notMedia("UTF-16 text"))
        XCTAssertEqual(sniff(noBOM), .notMedia("UTF-16 text"))
    }

    func testEmpty() {
        XCTAssertEqual(sniff([]), .empty)
        XCTAssertEqual(Sniffer.sniff(prefix: [], totalSize: 0), .empty)
    }

    func testText() {
        XCTAssertEqual(sniff(ascii("hello\nworld\n")), .text)
        XCTAssertEqual(sniff(ascii("\u{FEFF}naïve café 日本語 🎉\n")), .text)
        // A NUL byte makes it binary.
        XCTAssertEqual(sniff(ascii("hello\u{0}world")), .notMedia("binary data"))
        // Mostly binary high bytes are binary, not legacy text.
        XCTAssertEqual(sniff([0x80, 0x01, 0x02, 0x03, 0x04, 0x05, 0xFF, 0x10]), .notMedia("binary data"))
        // Invalid UTF-8 (Latin-1 é) is text in a legacy encoding, not UTF-8.
        XCTAssertEqual(sniff([0x63, 0x61, 0x66, 0xE9, 0x0A]), .notMedia(Sniffer.invalidUTF8Text))
    }

    func testPrefixCutInsideASequence() {
        let full = Array("ab🎉".utf8)  // 2 + 4 bytes
        let cut = Array(full.prefix(4))
        // The prefix stops inside the emoji but the file goes on: fine.
        XCTAssertEqual(Sniffer.sniff(prefix: cut, totalSize: 100), .text)
        // The same bytes as the whole file: truncated sequence.
        XCTAssertEqual(Sniffer.sniff(prefix: cut, totalSize: cut.count), .notMedia(Sniffer.invalidUTF8Text))
    }

    func testWholeFileVerdict() {
        XCTAssertEqual(Sniffer.sniff(prefix: ascii("ok so far"), totalSize: 10_000, wholeFileIsUTF8: false),
                       .notMedia("text that is not valid UTF-8"))
        XCTAssertEqual(Sniffer.sniff(prefix: ascii("ok so far"), totalSize: 10_000, wholeFileIsUTF8: true), .text)
    }

    func testTextFormat() {
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("{\"text\": \"a\"}\n"), fileExtension: "txt"), .jsonl)
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("\u{FEFF}\n\n  {\"a\":1}"), fileExtension: nil), .jsonl)
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("a,b\n1,2\n"), fileExtension: "CSV"), .csv)
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("a\tb\n"), fileExtension: ".tsv"), .csv)
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("a,b\n"), fileExtension: "txt"), .txt)
        XCTAssertEqual(Sniffer.textFormat(prefix: ascii("[1,2]\n"), fileExtension: "jsonl"), .txt)
        XCTAssertEqual(Sniffer.csvDelimiter(fileExtension: "tsv"), 0x09)
        XCTAssertEqual(Sniffer.csvDelimiter(fileExtension: "csv"), UInt8(ascii: ","))
    }
}
