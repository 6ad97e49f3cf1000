import Compliance

/// The errors of rendering reports.
public struct ReportError: LayerError {
    public typealias Code = ErrorCode<ReportError>
    public let code: Code
    public let message: String
}

extension ErrorCode where Layer == ReportError {
    /// The temporary file a streamed period keeps its cases in could not be
    /// created, written or read.
    public static var spool: Self { Self(rawValue: "spool") }
}
