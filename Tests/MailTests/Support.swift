import Foundation

/// A message written in a test: lines joined with CRLF.
func crlf(_ s: String) -> [UInt8] {
    Array(s.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n").utf8)
}

func tempDir(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mailtests-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func utc(_ iso: String) -> Date { ISO8601DateFormatter().date(from: iso)! }
