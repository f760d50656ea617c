import StrataCore

/// The catalog's errors for the renderer.
extension CatalogError: UserError {
    public var message: String {
        switch self {
        case .open(let path, let underlying): "cannot open the catalog \(path): \(underlying)"
        }
    }
    public var fix: String? {
        switch self {
        case .open:
            "check that the file exists and is readable, and that no other program holds it open for writing; restore .strata/ from a backup if it is damaged"
        }
    }
}

extension QueueError: UserError {
    public var message: String { description }
}

extension VersionCatalogError: UserError {
    public var message: String { description }
}
