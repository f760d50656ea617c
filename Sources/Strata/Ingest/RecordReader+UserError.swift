import StrataCore

extension RecordReader.MissingColumn: UserError {
    var message: String { "the header has no column `\(column)` (columns: \(columns.joined(separator: ", ")))" }
    var fix: String? { "name the text column with --text-field" }
}
