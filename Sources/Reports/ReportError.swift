/// The errors of the Reports layer: a code to branch on and the message
/// shown. The codes are extensible (a new one is a new constant), and the
/// exit status they map to is the executable's business, not this module's.
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The temporary file a streamed period keeps its cases in could
        /// not be created, written or read.
        public static let spool = Code(rawValue: "spool")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
