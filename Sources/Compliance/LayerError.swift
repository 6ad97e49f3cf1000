/// A code of one layer's errors: a string constant to branch on. Codes are
/// extensible (a new code is a new constant in an extension of
/// `ErrorCode where Layer == ThatError`) and compared by value; `Layer`, the
/// error type they belong to, keeps the codes of different layers apart.
public struct ErrorCode<Layer>: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// The error type of a layer (Compliance, Projections, Reports): a code and
/// the message shown, which is its `description`. Which exit status a code
/// maps to is the executable's business, not the layer's.
public protocol LayerError: Error, Sendable, Equatable, CustomStringConvertible {
    var code: ErrorCode<Self> { get }
    var message: String { get }
}

extension LayerError {
    public var description: String { message }
}
