import Foundation
import StrataCatalog
import StrataCore
import StrataParquet

/// Adapts any error to a `UserError` for the one renderer: Strata's own errors conform already; Foundation's
/// file errors become their sentence with the path as location; `DecodingError` is adapted in StrataCore.
public enum UserErrors {
    public static func adapt(_ error: any Error) -> any UserError {
        if let user = error as? any UserError { return user }
        if let cocoa = error as? CocoaError { return foundation(cocoa as NSError, path: cocoa.filePath) }
        if type(of: error) is NSError.Type {
            let ns = error as NSError
            return foundation(ns, path: ns.userInfo[NSFilePathErrorKey] as? String)
        }
        return UserErrorText.adapt(error)
    }

    /// One line for an error embedded in another message (`cannot read X: <inline>`).
    public static func inline(_ error: any Error) -> String {
        UserErrorText.inline(adapt(error))
    }

    static func foundation(_ error: NSError, path: String?) -> any UserError {
        var text = error.localizedDescription
        if text.hasSuffix(".") { text.removeLast() }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            text += " (\(String(cString: strerror(code.rawValue))))"
        }
        if let path, !text.contains(path) { return PathError(message: text, location: path) }
        return PlainError(message: text)
    }

    struct PathError: UserError {
        var message: String
        var location: String?
    }
}

/// The Parquet writer's errors (the module has no dependency on StrataCore, so it conforms here).
extension ParquetError: UserError {
    public var message: String { description }
}
